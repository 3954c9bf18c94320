"""HMAC-SHA256 signing shared by outgoing supplier requests and the incoming supplier callback.

The signature is the lowercase hex HMAC-SHA256, keyed with the shared secret, over
``f"{timestamp}.".encode() + body``, where ``timestamp`` is whole Unix seconds as a decimal string.
Binding the timestamp into the MAC lets ``verify`` refuse replays of an old, otherwise valid request.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "timestamp_now",
    "verify",
]


def timestamp_now(now: float | None = None) -> str:
    """The current time (or ``now``) as the whole-seconds string that ``sign`` expects."""
    return str(int(time.time() if now is None else now))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` under ``secret``."""
    if not secret:
        # An empty key would yield signatures anyone can forge; refuse rather than sign weakly.
        raise ValueError("a signing secret is required")
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    max_age_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` is valid for the body and the timestamp is within ``max_age_seconds``."""
    # Every malformed input is simply "not verified": callers need a yes/no, never an exception.
    if not secret or not isinstance(timestamp, str) or not isinstance(signature, str):
        return False
    # Strict ASCII digits: int() would also take " 12", "+12", "1_2" and non-ASCII digits, which
    # would let one signed request be replayed under several spellings of its timestamp.
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > max_age_seconds:
        return False
    try:
        given = signature.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign(secret, timestamp, body).encode("ascii")
    return hmac.compare_digest(expected, given)
