"""Claiming due orders: the orders table is the queue.

A claim runs in one short transaction that touches only the database: it locks due rows with
``SELECT … FOR UPDATE SKIP LOCKED`` (where the database has it; SQLite serialises writers
instead), marks them all running under this agent's lease with one guarded UPDATE and one
multi-row INSERT of their events (``orders.batch.orders_start``), and commits. The backend is called only afterwards (money rule 6).

Due means: pending with no retry delay left (``lease_expires_at`` doubles as "not before" on a
pending order), or running with an expired or missing lease: its agent died, or the supplier
accepted the order and its next status query is due. An accepted order is running with no
``lease_owner`` (the supplier has it, no agent does); a status query holds it by the exact
``lease_expires_at`` it set (the "poll token") instead of by name, and is not an attempt.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from orders.agent import conf
from orders.agent.retry import retry_deadlocks
from orders.batch import orders_start
from orders.exceptions import OrderStateChanged
from orders.models import Order, Service
from orders.services import order_fail, order_leases_extend, order_poll_turn_take

PRIMARY = "default"
Status = Order.Status

CANDIDATE_SLACK = 20
LOCK_ROUNDS = 3
CLAIM_ROUNDS = 3
GAVE_UP = gettext_noop("Gave up after %(attempts)d attempts. Last error: %(error)s")


@dataclass(frozen=True)
class Claim:
    """An order this agent now holds; ``poll`` when the supplier already accepted it."""

    order: Order
    poll: bool = False

    @property
    def poll_token(self):
        """For a status query, the lease expiry that proves the turn is still ours."""
        return self.order.lease_expires_at if self.poll else None


@dataclass
class ClaimBatch:
    claims: list[Claim] = field(default_factory=list)
    gave_up: list[Order] = field(default_factory=list)  # failed and refunded at the claim

    def __bool__(self) -> bool:
        return bool(self.claims or self.gave_up)


def pending_due(now) -> Q:
    return Q(status=Status.PENDING) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )


def running_due(now) -> Q:
    return Q(status=Status.RUNNING) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )


def is_accepted(order: Order) -> bool:
    """Whether the supplier accepted the order and answers later (running, held by no agent)."""
    return order.status == Status.RUNNING and not order.lease_owner


def _locking(queryset: QuerySet) -> QuerySet:
    features = connections[PRIMARY].features
    if not features.has_select_for_update:
        return queryset  # SQLite: IMMEDIATE transactions serialise the claimers
    return queryset.select_for_update(skip_locked=features.has_select_for_update_skip_locked)


def _is_due(order: Order, now) -> bool:
    lease = order.lease_expires_at
    return order.status in (Status.PENDING, Status.RUNNING) and (lease is None or lease <= now)


def _lock_due(now, limit: int, prefer: Sequence[str], leases: bool) -> list[Order]:
    """Lock up to ``limit`` due orders: the preferred numbers, dead leases, then oldest pending.

    Two steps: an unlocked read finds candidate ids through the queue indexes, then
    ``SELECT … WHERE id IN (…) FOR UPDATE SKIP LOCKED`` locks them by primary key. Locking
    through a secondary index instead takes its locks in the opposite order to a by-key UPDATE
    (order_cancel, orders_start) and InnoDB then reports deadlocks between a claim and a cancel.
    """
    orders = Order.objects.using(PRIMARY)
    picked: list[Order] = []

    def take(queryset: QuerySet) -> None:
        seen = [o.pk for o in picked]
        for _round in range(LOCK_ROUNDS):
            room = limit - len(picked)
            if room <= 0:
                return
            # A few more candidates than needed: rows other agents lock meanwhile are skipped.
            rest = queryset.exclude(pk__in=seen) if seen else queryset
            candidates = list(rest.values_list("pk", flat=True)[: room + CANDIDATE_SLACK])
            if not candidates:
                return
            locked = list(_locking(orders.filter(pk__in=candidates).order_by("pk"))[:room])
            # Re-checked under the lock: a candidate may have been claimed or cancelled since
            # it was read; then look further down the queue.
            picked.extend(o for o in locked if _is_due(o, now))
            # Every candidate read, locked or skipped, is passed over next round: the rows
            # other agents hold would otherwise fill the next candidate list again.
            seen.extend(candidates)
            if len(locked) == room and all(_is_due(o, now) for o in locked):
                return

    if prefer:
        take(pending_queue(now).filter(number__in=list(prefer)))
    if leases:
        take(lease_queue(now))
    take(pending_queue(now))
    return picked


# Separate queues keep each query on an index, (status, lease_expires_at) and
# (status, -created_at); one OR across both would sort every due row to find the oldest.


def lease_queue(now) -> QuerySet:
    """Running orders whose lease ran out (dead agents, accepted orders due a poll), oldest first."""
    return Order.objects.using(PRIMARY).filter(running_due(now)).order_by("lease_expires_at", "id")


def pending_queue(now) -> QuerySet:
    """Pending orders past their retry delay, oldest first."""
    # "-id" as the tie-break lets MariaDB read the (status, -created_at) index backwards with
    # no filesort; an ascending "id" would sort every pending row on each claim.
    return Order.objects.using(PRIMARY).filter(pending_due(now)).order_by("created_at", "-id")


def claim_due(
    *, agent: str, limit: int, prefer: Sequence[str] = (), leases: bool = True
) -> ClaimBatch:
    """Claim up to ``limit`` due orders for ``agent`` and commit; the caller then runs them.

    ``leases=False`` skips the expired-lease queue (a busy agent looks at it once a second).
    """
    if limit <= 0:
        return ClaimBatch()
    limit = min(limit, conf.CLAIM_BATCH_MAX)
    for attempt in range(1, CLAIM_ROUNDS + 1):
        try:
            batch = retry_deadlocks(
                lambda: _claim(agent=agent, limit=limit, prefer=prefer, leases=leases)
            )
            break
        except OrderStateChanged:
            # A row changed under what should have been our lock: nothing was written.
            if attempt == CLAIM_ROUNDS:
                raise
    _attach_services([claim.order for claim in batch.claims])
    return batch


def _attach_services(orders: list[Order]) -> None:
    """One query for the services the worker needs, instead of one per order (not locked)."""
    if orders:
        services = Service.objects.using(PRIMARY).in_bulk({o.service_id for o in orders})
        for order in orders:
            order.service = services[order.service_id]


def _claim(*, agent: str, limit: int, prefer: Sequence[str], leases: bool) -> ClaimBatch:
    """One transaction: lock up to ``limit`` due orders, start them all with one UPDATE and one
    INSERT of their events (``orders_start``); give up the ones out of attempts (a refund each)
    and take the poll turns of accepted ones."""
    batch = ClaimBatch()
    now = timezone.now()
    lease_until = now + timedelta(seconds=conf.lease_seconds())
    most = conf.max_attempts()
    with transaction.atomic(using=PRIMARY):
        to_start: list[Order] = []
        for order in _lock_due(now, limit, prefer, leases):
            if is_accepted(order):
                claim = _take_poll_turn(order, agent=agent, lease_until=lease_until)
                if claim is not None:
                    batch.claims.append(claim)
            elif order.attempts >= most:
                batch.gave_up.append(_give_up(order, agent=agent))
            else:
                to_start.append(order)
        # Locked and re-checked above: the guarded UPDATE matches every row, or raises and the
        # whole claim rolls back (claim_due then claims again).
        started = orders_start(orders=to_start, agent=agent, lease_until=lease_until)
        batch.claims.extend(Claim(order=order) for order in started)
    return batch


def _give_up(order: Order, *, agent: str) -> Order:
    params = {"attempts": order.attempts, "error": order.last_error or "-"}
    return order_fail(
        order=order, agent=agent, message=GAVE_UP, message_params=params, expected=order.status
    )


def _take_poll_turn(order: Order, *, agent: str, lease_until) -> Claim | None:
    """Hold an accepted order while asking the supplier about it; a poll is not an attempt."""
    if not order_poll_turn_take(order=order, lease_until=lease_until):
        return None
    return Claim(order=order, poll=True)


def leases_extend(*, agent: str, order_ids: Sequence[int]) -> int:
    """Push the lease of this agent's orders in flight forward; returns how many it still holds."""
    lease_until = timezone.now() + timedelta(seconds=conf.lease_seconds())
    return order_leases_extend(agent=agent, order_ids=order_ids, lease_until=lease_until)
