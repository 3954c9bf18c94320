"""Property tests: amount parsing, and the ledger's sum invariant over any operation sequence."""

from decimal import Decimal

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from customers.tests.factories import make_customer
from wallet.audit import audit_chain, audit_drifts
from wallet.exceptions import InsufficientFunds, InvalidAmount
from wallet.forms import DeductForm
from wallet.money import parse_amount
from wallet.selectors import balance_of
from wallet.services import wallet_debit_order, wallet_deduct, wallet_recharge

LIMIT = settings.WALLET_MAX_SINGLE_AMOUNT
CENTS = st.integers(min_value=1, max_value=int(LIMIT * 100))


@given(CENTS)
def test_every_cent_amount_under_the_limit_parses_to_itself(cents):
    value = Decimal(cents) / 100
    for text in (str(value), f"{value:.2f}", f"  {value:.2f} "):
        assert parse_amount(text) == value
    assert parse_amount(value) == value
    assert parse_amount(str(value)).as_tuple().exponent == -2
    if value >= 1000:  # a thousands separator is refused, never read as a decimal point
        with pytest.raises(InvalidAmount):
            parse_amount(f"{value:,.2f}")


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=3, max_value=8))
def test_more_than_two_decimals_are_refused_even_zeros(units, places):
    text = f"{Decimal(units).scaleb(-places):.{places}f}"
    with pytest.raises(InvalidAmount):
        parse_amount(text)


def person_reads(text: str) -> Decimal | None:
    """What a person reads in ``text``, written without a regular expression so that it checks
    the parser rather than repeating it: ASCII digits, then optionally "." and one or two ASCII
    digits, spaces around; None for anything else.
    """
    core = text.strip(" ")
    whole, point, cents = core.partition(".")
    if not whole or any(c not in "0123456789" for c in whole + cents):
        return None
    if point and not 1 <= len(cents) <= 2:
        return None
    return Decimal(core)


# The characters people (and attackers) mix into amounts: ASCII and full-width digits, other
# scripts' digits, separators, signs, exponents, currency, and every kind of space.
TRICKY = st.text(
    alphabet=st.sampled_from(
        list("0123456789.,_eE+-xXabNnIiF ") + list("１０٣۵߂٫·¥￥元\t\n\u3000\u00a0")
    ),
    max_size=14,
)
TYPED = st.one_of(
    TRICKY,
    st.from_regex(r" {0,2}[0-9]{1,9}(\.[0-9]{1,2})? {0,2}", fullmatch=True),
    st.text(max_size=20),
)


@hsettings(max_examples=600)
@given(TYPED)
def test_what_is_accepted_is_exactly_what_a_person_reads(text):
    expected = person_reads(text)
    if expected is None or not 0 < expected <= LIMIT:
        with pytest.raises(InvalidAmount):
            parse_amount(text)
        return
    value = parse_amount(text)
    assert value == expected and value.as_tuple().exponent == -2


@given(st.decimals(max_value=0, allow_nan=False, allow_infinity=False))
def test_zero_and_negative_are_refused(value):
    with pytest.raises(InvalidAmount):
        parse_amount(str(value))


@given(st.integers(min_value=int(LIMIT * 100) + 1, max_value=10**30))
def test_over_the_limit_is_refused(cents):
    with pytest.raises(InvalidAmount):
        parse_amount(str(Decimal(cents) / 100))


@given(st.text(max_size=20))
def test_arbitrary_text_parses_to_a_valid_amount_or_is_refused(text):
    try:
        value = parse_amount(text)
    except InvalidAmount:
        return
    assert 0 < value <= LIMIT and value == value.quantize(Decimal("0.01"))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_always_refused(value):
    with pytest.raises(InvalidAmount):
        parse_amount(value)


OPERATION = st.tuples(
    st.sampled_from(["recharge", "deduct", "debit"]),
    st.integers(min_value=1, max_value=50_000),  # cents
)


@pytest.mark.django_db
@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(OPERATION, max_size=25))
def test_balance_is_the_sum_of_entries_after_any_sequence(operations):
    customer = make_customer()
    model = Decimal("0.00")
    for n, (kind, cents) in enumerate(operations):
        amount = Decimal(cents) / 100
        key = f"p:{customer.pk}:{n}"
        try:
            if kind == "recharge":
                wallet_recharge(
                    customer_id=customer.pk, amount=amount, created_by=None, idempotency_key=key
                )
                model += amount
            elif kind == "deduct":
                wallet_deduct(
                    customer_id=customer.pk,
                    amount=amount,
                    created_by=None,
                    idempotency_key=key,
                    memo="p",
                )
                model -= amount
            else:
                wallet_debit_order(customer_id=customer.pk, amount=amount, order_number=key)
                model -= amount
        except InsufficientFunds:
            assert model - amount < 0  # refused exactly when it would go below zero
        assert model >= 0
    account = customer.account
    account.refresh_from_db()
    entries = list(account.entries.order_by("id"))
    assert account.balance == model == balance_of(customer_id=customer.pk)
    assert sum((e.amount for e in entries), Decimal("0")) == model
    assert (entries[-1].balance_after if entries else Decimal("0")) == model
    assert all(e.balance_after >= 0 for e in entries)
    assert not audit_drifts() and not audit_chain()


@hsettings(max_examples=300)
@given(TYPED)
def test_the_money_form_accepts_exactly_what_a_person_reads(text):
    """The 充值/扣款 form's field keeps the raw text for the parser (no stripping, no Decimal)."""
    form = DeductForm(data={"amount": text, "memo": "m", "request_key": "a" * 32})
    expected = person_reads(text)
    if expected is None or not 0 < expected <= LIMIT:
        assert not form.is_valid() and "amount" in form.errors
    else:
        assert form.is_valid(), form.errors
        assert form.cleaned_data["amount"] == expected
