"""Pricing (DESIGN.md): largest tier ≤ quantity, level share, 0.01 half up, range refused."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from customers.tests.factories import LevelFactory, make_customer
from orders.exceptions import (
    QUANTITY_NOT_AN_INTEGER,
    QUANTITY_OUT_OF_RANGE,
    SERVICE_HAS_NO_PRICES,
    InvalidQuantity,
    ServiceUnavailable,
)
from orders.forms import PriceField, QuantityField
from orders.pricing import parse_quantity, price
from orders.services import order_quote
from orders.tests.factories import ServiceFactory
from wallet.tests.test_properties import person_reads

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("quantity", "tier", "list_price"),
    [
        (1000, 1000, "8.00"),  # the smallest tier exactly
        (1001, 1000, "8.01"),  # 0.008 × 1001 = 8.008 → 8.01
        (9999, 1000, "79.99"),  # just below the next tier: still 0.008 a unit
        (10_000, 10_000, "70.00"),  # the tier boundary switches the unit price
        (99_999, 10_000, "699.99"),  # 0.007 × 99 999 = 699.993
        (100_000, 100_000, "600.00"),
        (1_000_000, 100_000, "6000.00"),  # the service's maximum
    ],
)
def test_the_largest_tier_not_above_the_quantity_sets_the_unit_price(
    video_service, quantity, tier, list_price
):
    quote = price(service=video_service, quantity=quantity, level_percent=100)
    assert quote.tier_quantity == tier
    assert quote.list_price == Decimal(list_price)
    assert quote.amount == Decimal(list_price)


@pytest.mark.parametrize(
    ("percent", "amount"),
    [(100, "70.00"), (90, "63.00"), (85, "59.50"), (33, "23.10"), (1, "0.70")],
)
def test_each_level_pays_its_percent_of_the_list_price(video_service, percent, amount):
    customer = make_customer(level=LevelFactory(discount_percent=percent))
    quote = order_quote(customer=customer, service=video_service, quantity=10_000)
    assert quote.list_price == Decimal("70.00")
    assert quote.level_percent == percent
    assert quote.amount == Decimal(amount)
    assert quote.discount == Decimal("70.00") - Decimal(amount)


def test_amount_rounds_half_up_at_half_a_cent():
    service = ServiceFactory(min_quantity=1, tiers=[(1, "1.05")])
    # 1.05 × 90 % = 0.945: half up gives 0.95 (banker's rounding would give 0.94)
    assert price(service=service, quantity=1, level_percent=90).amount == Decimal("0.95")
    # 1.05 × 70 % = 0.735 → 0.74; 1.05 × 50 % = 0.525 → 0.53
    assert price(service=service, quantity=1, level_percent=70).amount == Decimal("0.74")
    assert price(service=service, quantity=1, level_percent=50).amount == Decimal("0.53")


def test_list_price_rounds_half_up_and_thirds_come_out_whole():
    service = ServiceFactory(min_quantity=2, tiers=[(2, "0.01")])
    # unit 0.005 × 5 = 0.025 → 0.03 (banker's: 0.02)
    assert price(service=service, quantity=5, level_percent=100).list_price == Decimal("0.03")
    thirds = ServiceFactory(min_quantity=3, tiers=[(3, "1.00")])
    # 1/3 × 3 is 0.999…9 in decimal arithmetic; the half-up cent makes it 1.00
    assert price(service=thirds, quantity=3, level_percent=100).list_price == Decimal("1.00")
    assert price(service=thirds, quantity=4, level_percent=100).list_price == Decimal("1.33")


@pytest.mark.parametrize("quantity", [0, 1, 999, 1_000_001, 10**11])
def test_quantities_outside_the_range_are_refused_naming_the_range(video_service, quantity):
    with pytest.raises(InvalidQuantity) as refused:
        price(service=video_service, quantity=quantity, level_percent=100)
    assert str(refused.value) == QUANTITY_OUT_OF_RANGE % {"minimum": 1000, "maximum": 1000000}


def test_the_range_starts_at_the_larger_of_minimum_and_smallest_tier():
    service = ServiceFactory(min_quantity=1, max_quantity=500, tiers=[(100, "5.00")])
    with pytest.raises(InvalidQuantity, match="100"):
        price(service=service, quantity=99, level_percent=100)
    assert price(service=service, quantity=100, level_percent=100).amount == Decimal("5.00")


def test_a_service_without_tiers_is_refused():
    service = ServiceFactory(tiers=[])
    service.tiers.all().delete()
    with pytest.raises(ServiceUnavailable) as refused:
        price(service=service, quantity=1, level_percent=100)
    assert str(refused.value) == SERVICE_HAS_NO_PRICES


@pytest.mark.parametrize(
    "good", [("10", 10), (" 10 ", 10), (10, 10), ("0010", 10), ("9" * 12, 10**12 - 1)]
)
def test_quantity_parses_whole_numbers(good):
    assert parse_quantity(good[0]) == good[1]


@pytest.mark.parametrize(
    "bad",
    [
        *("1.5", "-3", "abc", "", "1e3", "1E5", "²", "十", True, 1.0, "9" * 40, "9" * 13),
        *("1,5", "10,5", "1_000", "１００", "+5", "0x10", "NaN", "Infinity", "5.", ".5", "5.0"),
        *("\u300010", "10\t", "10\n", "\u00a010", "٣", None, b"10"),
    ],
)
def test_quantity_refuses_anything_but_a_whole_number(bad):
    with pytest.raises(InvalidQuantity) as refused:
        parse_quantity(bad)
    assert str(refused.value) == QUANTITY_NOT_AN_INTEGER


def person_reads_quantity(text: str) -> int | None:
    """Only ASCII digits (at most 12), spaces around; written without a regular expression."""
    core = text.strip(" ")
    if not 1 <= len(core) <= 12 or any(c not in "0123456789" for c in core):
        return None
    return int(core)


@hsettings(max_examples=500)
@given(
    st.one_of(
        st.text(
            alphabet=st.sampled_from(list("0123456789.,_eE+- x") + list("１٣\t\u3000")), max_size=14
        ),
        st.from_regex(r" {0,2}[0-9]{1,13} {0,2}", fullmatch=True),
        st.text(max_size=14),
    )
)
def test_a_quantity_is_accepted_exactly_when_a_person_reads_a_whole_number(text):
    expected = person_reads_quantity(text)
    if expected is None:
        with pytest.raises(InvalidQuantity):
            parse_quantity(text)
    else:
        assert parse_quantity(text) == expected


@hsettings(max_examples=300)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789., eE+-_") + ["１", "\u3000"]), max_size=10)
)
def test_the_admin_quantity_and_price_fields_read_what_a_person_reads(text):
    """Service admin fields (QuantityField, PriceField) follow the parsers, not Django's."""
    quantity, price_ = QuantityField(required=False), PriceField(required=False)
    for field, expected in (
        (quantity, person_reads_quantity(text)),
        (price_, person_reads(text)),
    ):
        if field is price_ and expected is not None and expected <= 0:
            expected = None  # a price is above zero
        if text == "":
            assert field.clean(text) is None
        elif expected is None:
            with pytest.raises(ValidationError):
                field.clean(text)
        else:
            assert field.clean(text) == expected
