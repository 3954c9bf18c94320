"""Compile every catalogue (django.po, djangojs.po) in the project to .mo with polib (no GNU
gettext needed).

Run as ``python -m core.compilemessages`` (``make messages``). The .mo files are committed so a
fresh clone runs in Chinese and English without any gettext tools installed.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "var", "staticfiles", "node_modules"}


def catalogues() -> list[Path]:
    """Every django.po and djangojs.po under the project, outside the virtualenv."""
    return sorted(
        p
        for p in ROOT.rglob("locale/*/LC_MESSAGES/django*.po")
        if p.stem in ("django", "djangojs") and not SKIP & set(p.parts)
    )


def main() -> int:
    for po_path in catalogues():
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"{po_path.relative_to(ROOT)}: {len(po.translated_entries())} translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
