"""Amounts: Decimal with two places, never float; parsing refuses anything ambiguous.

What a person may type for an amount is exactly: optional ASCII spaces, ASCII digits, and at
most one ``.`` followed by one or two digits (``100``, ``99.5``, ``99.50``, `` 12.5 ``).
Everything else is refused, never guessed: ``1,5`` (a decimal comma, or a thousands separator?),
``1_000``, ``1e3``, full-width ``１００``, ``+5``, ``0x10``, ``NaN``, a currency sign. ``.5`` and
``5.`` are refused too: each is one keystroke away from another amount (``1.5``, ``5.5``), so
the person is asked to type it whole rather than have a lost digit guessed.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from wallet.exceptions import (
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    InvalidAmount,
)

CENT = Decimal("0.01")

# [0-9], not \d: \d also matches full-width and other scripts' digits. A leading "-" and any
# number of decimals are matched only to say precisely what is wrong (not positive, too precise).
_TYPED_AMOUNT = re.compile(r" *(?P<minus>-?)(?P<whole>[0-9]+)(?:\.(?P<cents>[0-9]+))? *")
_MAX_TYPED_LENGTH = 64  # far beyond any limit; keeps a pasted megabyte out of Decimal()


def quantize_money(value: Decimal) -> Decimal:
    """Round to 0.01, half up (money rule 5)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amount_from_text(text: str) -> Decimal:
    """The number a person typed, read by the strict grammar above (sign and size unchecked
    beyond a leading ``-``); InvalidAmount for anything else.
    """
    match = _TYPED_AMOUNT.fullmatch(text) if len(text) <= _MAX_TYPED_LENGTH else None
    if match is None:
        raise InvalidAmount(AMOUNT_NOT_A_NUMBER)
    if match["cents"] is not None and len(match["cents"]) > 2:
        raise InvalidAmount(AMOUNT_TOO_PRECISE)
    cents = match["cents"] or ""
    return Decimal(f"{match['minus']}{match['whole']}.{cents:0<2}")


def parse_amount(value: str | int | Decimal) -> Decimal:
    """A positive amount with at most two decimals, at most the single-operation limit.

    Text follows the strict grammar of this module; ``int`` and ``Decimal`` (from code, not
    from a person) are checked for the same rules. Floats are refused: they cannot represent
    most cent values exactly.
    """
    if isinstance(value, str):
        amount = amount_from_text(value)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidAmount(AMOUNT_NOT_A_NUMBER)
    else:
        raise InvalidAmount(AMOUNT_NOT_A_NUMBER)
    if amount <= 0:
        raise InvalidAmount(AMOUNT_NOT_POSITIVE)
    limit = settings.WALLET_MAX_SINGLE_AMOUNT
    if amount > limit:  # before quantizing: a huge value overflows the decimal context
        raise InvalidAmount(AMOUNT_TOO_LARGE, limit=limit)
    if amount != quantize_money(amount):
        raise InvalidAmount(AMOUNT_TOO_PRECISE)
    return quantize_money(amount)
