"""Mobile numbers: mainland-China 11-digit numbers by default, E.164 accepted; stored as E.164."""

import phonenumbers

from customers.exceptions import INVALID_MOBILE, InvalidMobile

DEFAULT_REGION = "CN"


def normalize_mobile(raw: str) -> str:
    """Return the number in E.164 (``+8613800138000``) or raise InvalidMobile."""
    text = "".join(str(raw or "").split()).replace("-", "")
    if not text:
        raise InvalidMobile(INVALID_MOBILE)
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile(INVALID_MOBILE) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile(INVALID_MOBILE)
    if number.country_code == 86 and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidMobile(INVALID_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_search_prefix(term: str) -> str | None:
    """The stored-form prefix for a typed mobile fragment (``138`` → ``+86138``), or None."""
    text = term.strip().replace(" ", "").replace("-", "")
    if text.startswith("+") and text[1:].isdigit():
        return text
    if text.isdigit():
        return "+86" + text
    return None
