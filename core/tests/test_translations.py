"""Every catalogue is fully translated and its committed .mo matches its .po."""

import polib
import pytest
from django.utils import translation

from core.compilemessages import ROOT, catalogues

CATALOGUES = catalogues()


def test_there_is_a_catalogue_per_business_app_and_one_for_the_project():
    folders = {p.relative_to(ROOT).parts[0] for p in CATALOGUES}
    assert {"customers", "wallet", "orders", "portal", "locale"} <= folders


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.relative_to(ROOT).parts[0])
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    expected = {(e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries()}
    assert compiled == expected, "run `make messages` and commit the .mo files"


def test_project_strings_are_chinese_by_default():
    with translation.override("zh-hans"):
        assert translation.gettext("Welcome to the Order Platform") == "欢迎使用订单平台"
    with translation.override("en"):
        assert (
            translation.gettext("Welcome to the Order Platform") == "Welcome to the Order Platform"
        )
