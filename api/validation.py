"""Schema errors in the request's language.

pydantic writes its validation messages in English only and has no translation hook, so the
problem body's ``errors[].msg`` is rebuilt here from each error's stable ``type`` and ``ctx``
(the documented part of pydantic's error, https://docs.pydantic.dev/latest/errors/validation_errors/).
A type without an entry keeps pydantic's English text; ``type`` itself is always kept so that a
client can act on it whatever the language.
"""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not accepted."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number, without a fraction."),
    "string_type": _("Enter text."),
    "string_too_short": _("Enter at least %(min_length)s characters."),
    "string_too_long": _("Enter at most %(max_length)s characters."),
    "string_pattern_mismatch": _("The value does not have the expected form (%(pattern)s)."),
    "greater_than": _("Enter a number greater than %(gt)s."),
    "greater_than_equal": _("Enter a number of at least %(ge)s."),
    "less_than": _("Enter a number less than %(lt)s."),
    "less_than_equal": _("Enter a number of at most %(le)s."),
    "bool_type": _("Enter true or false."),
    "bool_parsing": _("Enter true or false."),
    "datetime_type": _("Enter a date and time such as 2026-12-01T08:00:00+08:00."),
    "datetime_parsing": _("Enter a date and time such as 2026-12-01T08:00:00+08:00."),
    "datetime_from_date_parsing": _("Enter a date and time such as 2026-12-01T08:00:00+08:00."),
    "enum": _("Choose one of: %(expected)s."),
    "literal_error": _("Choose one of: %(expected)s."),
    "model_type": _("Send a JSON object."),
    "model_attributes_type": _("Send a JSON object."),
    "dict_type": _("Send a JSON object."),
    "list_type": _("Send a list."),
    "json_invalid": _("The body is not valid JSON."),
}


def translated_message(error: dict) -> str:
    """The error's message in the active language, its limits filled in from ``ctx``."""
    message = MESSAGES.get(str(error.get("type", "")))
    if message is None:
        return str(error.get("msg", ""))
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return str(message) % context
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))
