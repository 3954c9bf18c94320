"""One-time SMS login codes, kept in the cache: hashed, short-lived, single use, rate limited.

Every counter is ``cache.add`` + ``cache.incr``, atomic on Redis and on local memory, so two
requests racing each other cannot both slip under a limit. A code is issued (and its tries
counted) for every well-formed number, customer or not; only customers' numbers are actually
sent a message. So the answers, the cooldown and the limits say nothing about who is a customer.
"""

import logging
import math
import secrets
import time

import sms
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from portal import conf

logger = logging.getLogger("portal.sms")

CODE_SENT = _(
    "If this number belongs to a customer, a code has been sent to it. "
    "It is valid for %(minutes)s minutes."
)
SEND_TOO_SOON = _("A code was sent to this number a moment ago. Ask again in %(seconds)s seconds.")
SEND_LIMIT_MOBILE = _("Too many codes were asked for this number. Try again in an hour.")
SEND_LIMIT_IP = _("Too many codes were asked from your network. Try again in an hour.")
SEND_FAILED = _("The code could not be sent. Please try again.")
CODE_WRONG = _("The code is wrong. %(remaining)s tries left for this code.")
CODE_EXPIRED = _("The code has expired or was already used. Ask for a new one.")
CODE_TOO_MANY_ATTEMPTS = _("Too many wrong codes: this code no longer works. Ask for a new one.")
SMS_BODY = _("Your Order Platform login code is %(code)s, valid for %(minutes)s minutes.")


class SmsCodeError(DomainError):
    """An SMS code could not be sent or was not accepted."""


class SendRefused(SmsCodeError):
    """Too soon after the last code, or over an hourly limit."""


class SendFailed(SmsCodeError):
    """The SMS backend failed; the customer may try again at once."""


class CodeRejected(SmsCodeError):
    """The code is wrong, expired, used or has run out of tries."""


def _key(kind: str, value: str) -> str:
    # Hashed so a key never shows a phone number or an IP address to whoever reads the cache.
    digest = salted_hmac("portal.sms_codes.key", value, algorithm="sha256").hexdigest()[:32]
    return f"portal:sms:{kind}:{digest}"


def _digest(mobile: str, code: str) -> str:
    """The stored form of a code: an HMAC keyed by SECRET_KEY, bound to the number."""
    return salted_hmac("portal.sms_codes.code", f"{mobile}:{code}", algorithm="sha256").hexdigest()


def _hit(key: str, window: int) -> int:
    """Count one event in a fixed window starting at the first event; return the new count."""
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add and incr: this is its first event
        cache.add(key, 0, window)
        return cache.incr(key)


def _mask(mobile: str) -> str:
    return mobile[:-8] + "****" + mobile[-4:] if len(mobile) > 8 else "****"


def code_minutes() -> int:
    """The code's lifetime in whole minutes, as told to the customer."""
    return max(1, conf.sms_code_ttl() // 60)


def code_issue(*, mobile: str, ip_address: str, deliver: bool) -> None:
    """Make a new code for ``mobile`` (E.164) and, when ``deliver``, send it by SMS.

    Raises SendRefused (cooldown, hourly limits) or SendFailed (the backend failed).
    """
    cooldown = conf.sms_resend_cooldown()
    cooldown_key = _key("cooldown", mobile)
    now = time.time()
    if not cache.add(cooldown_key, now + cooldown, cooldown):
        until = cache.get(cooldown_key) or now + 1
        raise SendRefused(SEND_TOO_SOON, seconds=max(1, math.ceil(until - now)))
    refusal = None
    window = conf.sms_limit_window()
    if _hit(_key("hour-ip", ip_address or "unknown"), window) > conf.sms_hourly_limit_per_ip():
        refusal = SEND_LIMIT_IP
    elif _hit(_key("hour-mobile", mobile), window) > conf.sms_hourly_limit_per_mobile():
        refusal = SEND_LIMIT_MOBILE
    if refusal is not None:
        # Nothing was sent, so an address over its limit must not hold this number's cooldown.
        cache.delete(cooldown_key)
        raise SendRefused(refusal)

    code = f"{secrets.randbelow(10**6):06d}"
    ttl = conf.sms_code_ttl()
    code_key, attempts_key = _key("code", mobile), _key("attempts", mobile)
    cache.set(code_key, _digest(mobile, code), ttl)
    cache.set(attempts_key, 0, ttl)
    if not deliver:
        logger.info("SMS login code asked for %s, which is no customer's: not sent", _mask(mobile))
        return
    minutes = code_minutes()
    message = sms.Message(
        gettext(SMS_BODY) % {"code": code, "minutes": minutes},
        conf.sms_originator(),
        [mobile],
    )
    # Template-based providers (Tencent Cloud) send parameters, not the text above.
    message.template_params = [code, str(minutes)]
    try:
        sent = message.send(fail_silently=False)
    except Exception:  # noqa: BLE001 - any backend's failure means "not sent, try again"
        logger.exception("SMS login code to %s not sent", _mask(mobile))
        sent = 0
    if not sent:
        cache.delete_many([code_key, attempts_key, cooldown_key])
        raise SendFailed(SEND_FAILED)
    logger.info("SMS login code sent to %s", _mask(mobile))


def code_verify(*, mobile: str, code: str) -> None:
    """Accept ``code`` for ``mobile`` once, or raise CodeRejected; every try is counted."""
    code_key, attempts_key = _key("code", mobile), _key("attempts", mobile)
    stored = cache.get(code_key)
    if stored is None:
        raise CodeRejected(CODE_EXPIRED)
    limit = conf.sms_code_max_attempts()
    try:
        attempt = cache.incr(attempts_key)
    except ValueError:  # the counter expired with the code
        raise CodeRejected(CODE_EXPIRED) from None
    if attempt > limit:
        cache.delete(code_key)
        raise CodeRejected(CODE_TOO_MANY_ATTEMPTS)
    if not constant_time_compare(stored, _digest(mobile, code)):
        if attempt >= limit:
            cache.delete(code_key)
            raise CodeRejected(CODE_TOO_MANY_ATTEMPTS)
        raise CodeRejected(CODE_WRONG, remaining=limit - attempt)
    # Single use: of two requests racing with the right code, only one deletes it.
    if not cache.delete(code_key):
        raise CodeRejected(CODE_EXPIRED)
    cache.delete(attempts_key)


def resend_wait(*, mobile: str) -> int:
    """Seconds until another code may be sent to ``mobile`` (0: now)."""
    until = cache.get(_key("cooldown", mobile))
    return max(0, math.ceil(until - time.time())) if until else 0
