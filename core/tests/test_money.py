"""One money format everywhere: ¥1,500.50."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.money import format_yuan


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1500.5"), "¥1,500.50"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-12.345"), "-¥12.35"),
        (Decimal("1234567.89"), "¥1,234,567.89"),
        ("99.9", "¥99.90"),
        (7, "¥7.00"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
    ],
)
def test_format_yuan(value, shown):
    assert format_yuan(value) == shown


def test_signed_shows_a_plus_on_credits_only():
    assert format_yuan(Decimal("100"), signed=True) == "+¥100.00"
    assert format_yuan(Decimal("-100"), signed=True) == "-¥100.00"
    assert format_yuan(Decimal("0"), signed=True) == "¥0.00"


def test_the_template_filters_use_the_same_format():
    template = Template("{% load money %}{{ a|yuan }} {{ b|yuan_signed }}")
    assert template.render(Context({"a": Decimal("1500.5"), "b": Decimal("-3")})) == (
        "¥1,500.50 -¥3.00"
    )
