"""One way to show an amount of money in the admin: ``¥1,500.50`` (``-¥12.34`` below zero).

Used by ``format_yuan`` in list columns and messages, and by ``{{ amount|yuan }}`` in templates
(``{% load money %}``), so every page shows the same figure the same way whatever the language.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
EMPTY = "—"


def format_yuan(value: Decimal | int | str | None, *, signed: bool = False) -> str:
    """``¥1,500.50``; ``-¥1,500.50`` below zero; ``+¥…`` above zero when ``signed``.

    Anything that is not a number (None, "") shows as a dash rather than failing a page.
    """
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return EMPTY
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}¥{abs(amount):,.2f}"
