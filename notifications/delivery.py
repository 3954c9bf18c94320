"""Sending the outbox: the agent's side task claims due deliveries and POSTs them signed.

Claiming takes due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and, in the same short
transaction, moves their ``next_try_at`` a lease ahead and counts the attempt; the POST runs
after the commit, and the outcome is written only if the row still carries that attempt (a
compare-and-set), so two agents never send the same attempt and a dead agent's claim is tried
again when its lease runs out. At-least-once: a receiver de-duplicates on ``webhook-id``.
"""

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.utils import timezone
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook

from notifications.exceptions import ENDPOINT_INACTIVE, NotificationError
from notifications.models import Delivery, DeliveryAttempt, WebhookEndpoint
from notifications.services import events_prune
from notifications.urls_check import url_check

PRIMARY = "default"
logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed try; after the last one the delivery has failed.
# 5 s + 5 min + 30 min + 2 h + 5 h + 10 h + 10 h ≈ 27.6 h of trying.
DEFAULT_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
# Longer than one POST can take, so a live agent's claim never expires under it; a batch
# gets one such lease per round of its workers.
LEASE_SECONDS = 60
PRUNE_EVERY = 3600  # seconds between two prunings of old events on one agent
BATCH = 10
ERROR_MAX = 500


def schedule() -> tuple[int, ...]:
    return tuple(getattr(settings, "WEBHOOKS_RETRY_SCHEDULE", DEFAULT_SCHEDULE))


def poll_interval() -> float:
    return float(getattr(settings, "WEBHOOKS_POLL_INTERVAL", 2.0))


@dataclass
class Claimed:
    delivery_id: int
    attempt: int


def _locking(queryset):
    features = connections[PRIMARY].features
    if not features.has_select_for_update:
        return queryset  # SQLite: one writer at a time anyway
    return queryset.select_for_update(skip_locked=features.has_select_for_update_skip_locked)


def deliveries_claim(*, limit: int = BATCH, lease_seconds: int = LEASE_SECONDS) -> list[Claimed]:
    """Lock up to ``limit`` due deliveries, lease them and count the attempt; commit."""
    now = timezone.now()
    with transaction.atomic(using=PRIMARY):
        due = _locking(
            Delivery.objects.using(PRIMARY)
            .filter(status=Delivery.Status.PENDING, next_try_at__lte=now)
            .order_by("next_try_at", "id")
        )
        rows = list(due.values_list("pk", "attempts")[:limit])
        claimed = []
        for pk, attempts in rows:
            updated = (
                Delivery.objects.using(PRIMARY)
                .filter(pk=pk, attempts=attempts)
                .update(attempts=attempts + 1, next_try_at=now + timedelta(seconds=lease_seconds))
            )
            if updated == 1:
                claimed.append(Claimed(delivery_id=pk, attempt=attempts + 1))
    return claimed


@dataclass
class Outcome:
    url: str
    status_code: int | None = None
    response_ms: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPS(HTTPAdapter):
    """Connect to the checked address while verifying the certificate for the host name."""

    def __init__(self, host: str):
        self._host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._host
        kwargs["assert_hostname"] = self._host
        super().init_poolmanager(*args, **kwargs)


def _post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    """POST to the address checked right now (no second DNS lookup, no redirects)."""
    try:
        target = url_check(url)
    except NotificationError as exc:
        return Outcome(url=url, error=exc.message[:ERROR_MAX])
    address = f"[{target.address}]" if ":" in target.address else target.address
    parts = urlsplit(url)
    tail = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pinned = f"{target.scheme}://{address}:{target.port}{tail}"
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" + (
            "" if target.port == default_port else f":{target.port}"
        )
    session = requests.Session()
    session.trust_env = False  # never through a proxy from the environment
    if target.scheme == "https":
        session.mount("https://", _PinnedHTTPS(target.host))
    started = time.monotonic()
    try:
        response = session.post(
            pinned,
            data=body.encode(),
            headers={**headers, "Host": host_header},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
            # The system's CA bundle; a file of your own CA where receivers use one.
            verify=getattr(settings, "WEBHOOKS_CA_BUNDLE", None) or True,
        )
        response.close()  # the body is not read: a receiver answers with its status
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(url=url, status_code=response.status_code, response_ms=elapsed)
    except requests.RequestException as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(
            url=url, response_ms=elapsed, error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        )
    finally:
        session.close()


def _request(delivery: Delivery, endpoint: WebhookEndpoint) -> tuple[str, dict[str, str]]:
    event = delivery.event
    body = json.dumps(
        {
            "id": event.event_id,
            "type": event.type,
            "timestamp": event.created_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    now = timezone.now()
    signature = Webhook(endpoint.secret).sign(event.event_id, now, body)
    headers = {
        "content-type": "application/json",
        "user-agent": "OrderPlatform-Webhooks/1",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body, headers


def delivery_send(claimed: Claimed, *, agent: str = "") -> Delivery | None:
    """Send one claimed attempt and record it; None when the claim was lost meanwhile."""
    delivery = Delivery.objects.using(PRIMARY).select_related("event").get(pk=claimed.delivery_id)
    if delivery.attempts != claimed.attempt:
        return None
    endpoint = (
        WebhookEndpoint.objects.using(PRIMARY)
        .filter(customer_id=delivery.customer_id, is_active=True)
        .first()
    )
    if endpoint is None:
        outcome = Outcome(url="", error=str(ENDPOINT_INACTIVE))
    else:
        body, headers = _request(delivery, endpoint)
        outcome = _post(endpoint.url, body, headers)
    return _record(delivery, claimed, outcome, agent=agent)


def _record(
    delivery: Delivery, claimed: Claimed, outcome: Outcome, *, agent: str
) -> Delivery | None:
    now = timezone.now()
    fields = {
        "last_status_code": outcome.status_code,
        "last_response_ms": outcome.response_ms,
        "last_error": outcome.error,
    }
    if outcome.ok:
        fields |= {"status": Delivery.Status.DELIVERED, "delivered_at": now, "next_try_at": None}
    else:
        waits = schedule()
        failures = delivery.failures + 1
        if failures > len(waits):
            fields |= {"status": Delivery.Status.FAILED, "next_try_at": None}
        else:
            fields["next_try_at"] = now + timedelta(seconds=waits[failures - 1])
        fields["failures"] = failures
    with transaction.atomic(using=PRIMARY):
        updated = (
            Delivery.objects.using(PRIMARY)
            .filter(pk=delivery.pk, attempts=claimed.attempt, status=Delivery.Status.PENDING)
            .update(**fields)
        )
        DeliveryAttempt.objects.using(PRIMARY).create(
            delivery=delivery,
            number=claimed.attempt,
            url=outcome.url[:500],
            status_code=outcome.status_code,
            response_ms=outcome.response_ms,
            error=outcome.error,
            agent=agent[:100],
            created_at=now,
        )
    if updated != 1:
        return None  # sent again meanwhile: the attempt is logged, the new state stands
    delivery.refresh_from_db(using=PRIMARY)
    return delivery


def concurrency() -> int:
    return max(1, int(getattr(settings, "WEBHOOKS_CONCURRENCY", 4)))


def _send_on_worker(item: Claimed, agent: str) -> Delivery | None:
    try:
        return delivery_send(item, agent=agent)
    finally:
        connections.close_all()  # this pool thread's own connection


def deliver_due(*, agent: str = "", limit: int = BATCH) -> int:
    """Claim and send what is due now; returns how many attempts were made.

    Up to ``WEBHOOKS_CONCURRENCY`` POSTs run at once, so one dead receiver (3 s to refuse,
    10 s to time out) does not hold every other customer's events behind it.
    """
    workers = concurrency()
    rounds = -(-limit // workers)
    claimed = deliveries_claim(limit=limit, lease_seconds=LEASE_SECONDS * rounds)
    if workers == 1 or len(claimed) <= 1:
        for item in claimed:
            delivery_send(item, agent=agent)
        return len(claimed)
    with ThreadPoolExecutor(max_workers=min(workers, len(claimed))) as pool:
        list(pool.map(lambda item: _send_on_worker(item, agent), claimed))
    return len(claimed)


def webhook_side_task(stopping: threading.Event) -> None:
    """The agent's side task: deliver what is due, sleep when nothing is, until stopping;
    once an hour, prune finished events past their retention (``events_prune``)."""
    agent = threading.current_thread().name
    last_prune = 0.0
    while not stopping.is_set():
        close_old_connections()
        try:
            if time.monotonic() - last_prune > PRUNE_EVERY:
                events_prune()
                last_prune = time.monotonic()
            sent = deliver_due(agent=agent)
        except DatabaseError:
            logger.exception("webhooks: could not claim deliveries; retrying")
            connections.close_all()
            stopping.wait(5)
            continue
        if not sent:
            stopping.wait(poll_interval())
