"""Amounts: Decimal with two places, never float; parsing refuses anything ambiguous."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

from wallet.exceptions import (
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    InvalidAmount,
)

CENT = Decimal("0.01")


def quantize_money(value: Decimal) -> Decimal:
    """Round to 0.01, half up (money rule 5)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: str | int | Decimal) -> Decimal:
    """A positive amount with at most two decimals, at most the single-operation limit.

    Floats are refused: they cannot represent most cent values exactly.
    """
    if isinstance(value, float | bool) or value is None:
        raise InvalidAmount(AMOUNT_NOT_A_NUMBER)
    text = str(value).strip().replace(",", "").replace("，", "")
    # What staff type from habit: a currency sign in front, 元 behind.
    text = text.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidAmount(AMOUNT_NOT_A_NUMBER) from exc
    if not amount.is_finite():
        raise InvalidAmount(AMOUNT_NOT_A_NUMBER)
    if amount <= 0:
        raise InvalidAmount(AMOUNT_NOT_POSITIVE)
    limit = settings.WALLET_MAX_SINGLE_AMOUNT
    if amount > limit:  # before quantizing: a huge value overflows the decimal context
        raise InvalidAmount(AMOUNT_TOO_LARGE, limit=limit)
    if amount != quantize_money(amount):
        raise InvalidAmount(AMOUNT_TOO_PRECISE)
    return quantize_money(amount)
