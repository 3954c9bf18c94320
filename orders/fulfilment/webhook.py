"""A fulfilment backend that hands orders to a real supplier over signed HTTP webhooks.

Configuration (``FULFILMENT_BACKENDS[<name>]["OPTIONS"]``):

``url`` (required)
    http(s) endpoint that receives new orders.
``secret`` (required)
    Shared HMAC secret; see ``orders.fulfilment.signing``.
``timeout`` (default 10)
    Seconds per attempt for connecting and for each read; the body must also arrive within it.
``retries`` (default 3)
    Extra attempts after the first one, so ``retries + 1`` requests at most per call.
``backoff`` (default 0.5)
    Base of the exponential pause between attempts: ``backoff * 2**(n-1)`` before retry ``n``,
    capped at ``BACKOFF_CAP_SECONDS``.
``poll_url`` (default ``url.rstrip("/") + "/status"``)
    http(s) endpoint for status queries.

Request (``execute``): ``POST url`` with a JSON body ::

    {"order_number": "2026…", "target": "…", "quantity": 10, "service": "<service name>",
     "callback_path": "/fulfilment/callback/"}

Status query (``poll``): ``POST poll_url`` with a JSON body ::

    {"order_number": "2026…", "supplier_reference": "<reference or empty>"}

POST rather than GET so that the signature covers what is asked: a signed GET would sign an empty
body and leave the query string open to tampering.

Every request carries ``Content-Type: application/json``, ``Idempotency-Key: <order number>``
(identical on every attempt and on every later call for the same order), ``X-Signature-Timestamp``
and ``X-Signature`` (HMAC-SHA256, re-signed per attempt so a long retry chain never goes stale).
Redirects are not followed: they would forward the signed headers to an unvetted location and
silently turn the POST into a GET.

Answer (2xx, both calls) ::

    {"status": "completed"|"partial"|"failed"|"accepted", "delivered": int,
     "baseline": int|null, "reference": str, "message": str}

``baseline``, ``reference`` and ``message`` may be omitted or null. The answer is malformed if it
is not a JSON object, the status is unknown, ``delivered`` is missing, not an integer, negative or
above the quantity, or contradicts the status (completed needs ``delivered == quantity``, partial
``0 < delivered < quantity``, failed ``delivered == 0``), or the reference is not a string of at
most 100 characters (or, when polling, differs from the one already recorded). For ``poll``,
"accepted" means "not finished yet".

Failure handling. Timeouts, connection errors, 5xx, the transient 4xx codes in
``TRANSIENT_CLIENT_ERRORS`` (408, 409, 425, 429), any other non-2xx/4xx code and malformed 2xx
answers are retried with backoff. When every attempt has failed this way the backend raises
``SupplierUnavailable`` instead of returning FAILED: the request may well have reached the supplier,
which may still deliver, so refunding would risk paying out for work that is then done anyway. The
agent releases the order and tries again later with the same Idempotency-Key, which a well-behaved
supplier answers without delivering twice. Any other 4xx on ``execute`` is the supplier refusing the
order, which is a FAILED result at once (no retry). A non-transient 4xx on ``poll`` raises
``SupplierUnavailable`` at once instead: the supplier has already accepted that order, so a refused
status query says nothing about whether it will be delivered.

A call blocks for at most about ``(retries + 1) * 2 * timeout`` plus the backoff pauses.
"""

import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

from orders.fulfilment import signing
from orders.fulfilment.base import BaseBackend, FulfilmentResult, Outcome

__all__ = [
    "BACKOFF_CAP_SECONDS",
    "CALLBACK_PATH",
    "TRANSIENT_CLIENT_ERRORS",
    "SupplierUnavailable",
    "WebhookBackend",
]

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/fulfilment/callback/"
BACKOFF_CAP_SECONDS = 30.0
# 408/425/429 say "not now"; 409 is how idempotent APIs report that a request with the same key
# is still in progress. Refunding on any of them could pay out for an order that is then delivered.
TRANSIENT_CLIENT_ERRORS = frozenset({408, 409, 425, 429})
MAX_RESPONSE_BYTES = 64 * 1024  # an answer is a few hundred bytes; more is a broken supplier
MAX_REFERENCE_LENGTH = 100  # Order.supplier_reference
MAX_MESSAGE_LENGTH = 500  # OrderEvent.message
# A source string with parameters: the order's timeline shows it in the viewer's language.
SUPPLIER_REFUSED = gettext_noop("The supplier refused the order: HTTP %(status)s%(detail)s")
MAX_BASELINE = 2**63 - 1  # Order.baseline_count is a BigIntegerField

_OPTIONS = frozenset({"url", "secret", "timeout", "retries", "backoff", "poll_url"})

# Looked up at call time so tests can observe the backoff schedule without really sleeping.
_sleep = time.sleep


class SupplierUnavailable(Exception):
    """No usable answer from the supplier after every attempt; the order's fate is unknown."""


class _AttemptFailed(Exception):
    """One attempt gave no usable answer, but another attempt might."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turn every 3xx into an HTTPError instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Refuse to follow the redirect."""
        return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _http_url(value, option: str, backend: str) -> str:
    # urllib would also open file:// and ftp:// URLs; only http(s) may ever be configured here.
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"Fulfilment backend {backend!r}: {option} must be an http(s) URL, got {value!r}"
        )
    return value


def _number(options: dict, key: str, default, backend: str, *, integer=False, positive=False):
    value = options.get(key, default)
    valid = _is_int(value) if integer else _is_int(value) or isinstance(value, float)
    # NaN and infinity fail isfinite; an infinite timeout is exactly the hang this must prevent.
    infinite = isinstance(value, float) and not math.isfinite(value)
    if not valid or infinite or value < 0 or (positive and value == 0):
        kind = "an integer" if integer else "a number"
        bound = "greater than 0" if positive else "at least 0"
        raise ImproperlyConfigured(
            f"Fulfilment backend {backend!r}: {key} must be {kind} {bound}, got {value!r}"
        )
    return value


class WebhookBackend(BaseBackend):
    """Send orders to a supplier's HTTP endpoint and ask it for their status (see module doc)."""

    def __init__(self, *, name: str, **options):
        """Validate the OPTIONS now so a misconfiguration fails at start-up, not per order."""
        super().__init__(name=name, **options)
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"Fulfilment backend {name!r}: unknown options {sorted(unknown)}"
            )
        self.url = _http_url(options.get("url"), "url", name)
        secret = options.get("secret")
        if not isinstance(secret, str) or not secret:
            raise ImproperlyConfigured(f"Fulfilment backend {name!r}: secret is required")
        self.secret = secret
        self.timeout = _number(options, "timeout", 10, name, positive=True)
        self.retries = _number(options, "retries", 3, name, integer=True)
        self.backoff = _number(options, "backoff", 0.5, name)
        poll_url = options.get("poll_url") or self.url.rstrip("/") + "/status"
        self.poll_url = _http_url(poll_url, "poll_url", name)
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        # Name and URL only: self.options holds the secret, which must never reach a log line.
        return f"<{type(self).__name__} {self.name!r} {self.url}>"

    def execute(self, order) -> FulfilmentResult:
        """Hand the order to the supplier; raises SupplierUnavailable if no usable answer came."""
        payload = {
            "order_number": order.number,
            "target": order.target,
            "quantity": order.quantity,
            "service": order.service.name,
            "callback_path": CALLBACK_PATH,
        }
        return self._call(self.url, payload, order, polling=False)

    def poll(self, order) -> FulfilmentResult:
        """Ask the supplier about an accepted order; ACCEPTED means it is not finished yet."""
        payload = {"order_number": order.number, "supplier_reference": order.supplier_reference}
        return self._call(self.poll_url, payload, order, polling=True)

    def _call(self, url: str, payload: dict, order, *, polling: bool) -> FulfilmentResult:
        body = json.dumps(payload, separators=(",", ":")).encode()
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                _sleep(min(self.backoff * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS))
            try:
                status, answer = self._send(url, body, key=order.number)
                return self._interpret(status, answer, order, polling=polling)
            except _AttemptFailed as exc:
                problem = str(exc)
                logger.warning(
                    "Supplier %s, order %s, attempt %d/%d: %s",
                    self.name,
                    order.number,
                    attempt + 1,
                    attempts,
                    problem,
                )
        raise SupplierUnavailable(
            f"{self.name}: no usable answer from {url} after {attempts} attempt(s): {problem}"
        )

    def _send(self, url: str, body: bytes, *, key: str) -> tuple[int, bytes]:
        timestamp = signing.timestamp_now()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                signing.IDEMPOTENCY_HEADER: key,
                signing.TIMESTAMP_HEADER: timestamp,
                signing.SIGNATURE_HEADER: signing.sign(self.secret, timestamp, body),
            },
        )
        # urllib's timeout bounds each socket operation, not the whole exchange; the deadline
        # stops a supplier that trickles its body from holding the agent much past the timeout.
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, _read_limited(response, deadline)
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    answer = _read_limited(exc, deadline)
                except (http.client.HTTPException, OSError, _AttemptFailed):
                    answer = b""  # the status code alone decides what an error response means
            return exc.code, answer
        except (http.client.HTTPException, OSError) as exc:
            # URLError, TimeoutError, ConnectionError and ssl.SSLError are all OSErrors.
            reason = getattr(exc, "reason", None) or exc
            raise _AttemptFailed(f"{type(exc).__name__}: {reason}") from exc

    def _interpret(self, status: int, answer: bytes, order, *, polling: bool) -> FulfilmentResult:
        if 200 <= status < 300:
            return _parse_answer(answer, order, polling=polling)
        if 400 <= status < 500 and status not in TRANSIENT_CLIENT_ERRORS:
            detail = _error_detail(answer)
            if polling:
                raise SupplierUnavailable(
                    f"{self.name}: status query for order {order.number} refused: "
                    f"HTTP {status}{detail}"
                )
            return FulfilmentResult(
                outcome=Outcome.FAILED,
                supplier_reference=order.supplier_reference,
                message=SUPPLIER_REFUSED,
                message_params={"status": status, "detail": detail},
            )
        raise _AttemptFailed(f"HTTP {status}{_error_detail(answer)}")


def _read_limited(response, deadline: float) -> bytes:
    # read1 returns after a single receive, so the deadline is checked between slow chunks.
    read = getattr(response, "read1", response.read)
    chunks, size = [], 0
    while chunk := read(8192):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _AttemptFailed(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("the answer did not arrive within the timeout")
    return b"".join(chunks)


def _error_detail(answer: bytes) -> str:
    """The supplier's own message from an error answer, if it sent a JSON one."""
    try:
        data = json.loads(answer)
    except (ValueError, RecursionError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return f" ({message[:200]})" if isinstance(message, str) and message else ""


def _parse_answer(answer: bytes, order, *, polling: bool) -> FulfilmentResult:
    """Map a 2xx answer to a FulfilmentResult, or raise _AttemptFailed if it is malformed."""
    try:
        data = json.loads(answer)
    except (ValueError, RecursionError) as exc:
        raise _AttemptFailed(f"malformed answer: not JSON ({answer[:80]!r})") from exc
    if not isinstance(data, dict):
        raise _AttemptFailed("malformed answer: not a JSON object")

    try:
        return supplier_result(data, order, check_reference=polling)
    except MalformedAnswer as exc:
        raise _AttemptFailed(f"malformed answer: {exc}") from exc


class MalformedAnswer(ValueError):
    """A supplier's result (webhook answer or callback body) that cannot describe this order."""


def supplier_result(
    data: dict, order, *, check_reference: bool, default_delivered: bool = False
) -> FulfilmentResult:
    """The supplier's JSON result checked against the order, or MalformedAnswer saying why.

    Shared by the webhook answers and the signed callback, so both accept exactly the same
    results. ``default_delivered``: a missing ``delivered`` means all (completed) or none.
    """
    status = data.get("status")
    if status not in tuple(Outcome):
        raise MalformedAnswer(f"unknown status {status!r}")
    outcome = Outcome(status)

    quantity = order.quantity
    delivered = data.get("delivered")
    if delivered is None and default_delivered:
        delivered = quantity if outcome == Outcome.COMPLETED else 0
    if not _is_int(delivered) or not 0 <= delivered <= quantity:
        raise MalformedAnswer(f"delivered {delivered!r} is not an integer in 0..{quantity}")
    consistent = {
        Outcome.COMPLETED: delivered == quantity,
        Outcome.PARTIAL: 0 < delivered < quantity,
        Outcome.FAILED: delivered == 0,
        Outcome.ACCEPTED: True,
    }[outcome]
    if not consistent:
        raise MalformedAnswer(f"{status} with delivered {delivered} of {quantity}")

    baseline = data.get("baseline")
    if baseline is not None and (not _is_int(baseline) or not 0 <= baseline <= MAX_BASELINE):
        raise MalformedAnswer(f"baseline {baseline!r}")

    reference = data.get("reference")
    reference = "" if reference is None else reference
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_LENGTH:
        raise MalformedAnswer(f"reference {reference!r:.120}")
    # An answer about some other supplier job must not be booked against this order.
    if (
        check_reference
        and reference
        and order.supplier_reference
        and reference != order.supplier_reference
    ):
        raise MalformedAnswer(f"reference {reference!r} is not {order.supplier_reference!r}")

    message = data.get("message")
    message = "" if message is None else message
    if not isinstance(message, str):
        raise MalformedAnswer(f"message {message!r:.120}")

    return FulfilmentResult(
        outcome=outcome,
        delivered_quantity=delivered,
        baseline_count=baseline,
        supplier_reference=reference or order.supplier_reference,
        message=message[:MAX_MESSAGE_LENGTH],
    )
