"""The portal's settings, each with a default; override any of them in the project settings."""

from django.conf import settings


def _setting(name: str, default):
    return getattr(settings, f"PORTAL_{name}", default)


def sms_code_ttl() -> int:
    """Seconds an SMS login code stays valid."""
    return _setting("SMS_CODE_TTL", 300)


def sms_code_max_attempts() -> int:
    """Wrong codes allowed per code before it is thrown away."""
    return _setting("SMS_CODE_MAX_ATTEMPTS", 5)


def sms_resend_cooldown() -> int:
    """Seconds before another code may be sent to the same number."""
    return _setting("SMS_RESEND_COOLDOWN", 60)


def sms_hourly_limit_per_mobile() -> int:
    """Codes one mobile number may be sent in an hour."""
    return _setting("SMS_HOURLY_LIMIT_PER_MOBILE", 5)


def sms_hourly_limit_per_ip() -> int:
    """Codes one client IP address may ask for in an hour."""
    return _setting("SMS_HOURLY_LIMIT_PER_IP", 20)


def sms_limit_window() -> int:
    """Seconds of the window the hourly limits count in (an hour; shorter in tests)."""
    return _setting("SMS_LIMIT_WINDOW", 60 * 60)


def sms_originator() -> str | None:
    """The sender shown by backends that use one (django-sms ``originator``)."""
    return _setting("SMS_ORIGINATOR", None)


def page_size() -> int:
    """Rows per page on the orders and transactions lists."""
    return _setting("PAGE_SIZE", 20)
