"""Spreadsheet-safe export helpers."""

# A cell starting with one of these is a formula to Excel/LibreOffice/Sheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Prefix a dangerous string with ``'`` so a spreadsheet shows it as text; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def looks_like_formula(text: str) -> bool:
    """Whether an imported cell would run as a formula in a spreadsheet.

    ``=…`` and ``@…`` always; ``+``/``-`` followed by something other than a digit or a space
    (``+8613800138000`` and ``-5`` are data, ``+cmd|…`` and ``-2+3`` are not… the latter
    starts with a digit and passes, as a spreadsheet would show its value anyway).
    A leading ``'`` (what our exports add) makes any cell text.
    """
    if not text or text[0] == "'":
        return False
    if text[0] in "=@\t\r":
        return True
    return text[0] in "+-" and len(text) > 1 and not (text[1].isdigit() or text[1] == " ")
