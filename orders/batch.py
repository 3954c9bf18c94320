"""Order writes on many orders at once: the agent's batch claim and its bulk completion.

The same rules as the one-order services in ``orders/services.py`` (every move allowed by
``Order.TRANSITIONS``, a guarded UPDATE whose row count is checked, one OrderEvent per order in
the same transaction, ``orders_finished`` sent inside it), at a fixed number of statements per
batch instead of per order:

- ``orders_start``: one ``UPDATE … WHERE id IN (…)`` and one multi-row INSERT of the events, on
  rows the caller's claim transaction has locked (``SELECT … FOR UPDATE SKIP LOCKED``);
- ``orders_complete``: one locking read by primary key, one guarded ``UPDATE … WHERE id IN (…)``,
  one multi-row INSERT of the events.

Only moves that move no money are batched. Partial and failed orders refund on the customer's
locked account, one transaction per order (``order_partial``, ``order_fail``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.exceptions import (
    STATE_CHANGED,
    TRANSITION_NOT_ALLOWED,
    InvalidTransition,
    OrderStateChanged,
)
from orders.models import Order, OrderEvent
from orders.signals import orders_finished

PRIMARY = "default"
Status = Order.Status


@dataclass(frozen=True)
class Completion:
    """A running order a backend delivered in full, with what the supplier reported."""

    order: Order
    baseline_count: int | None = None
    supplier_reference: str = ""
    message: str = ""
    message_params: dict | None = None


def _check_transitions(orders: Sequence[Order], from_of, to_status: str) -> None:
    for order in orders:
        if not Order.can_transition(from_of(order), to_status):
            raise InvalidTransition(
                TRANSITION_NOT_ALLOWED,
                number=order.number,
                from_status=from_of(order),
                to_status=to_status,
            )


def _per_order(values: dict[int, object], field: models.Field):
    """One value for the whole UPDATE, or a CASE on the primary key when they differ."""
    distinct = set(values.values())
    if len(distinct) == 1:
        return Value(distinct.pop(), output_field=field)
    return Case(
        *(When(pk=pk, then=Value(value, output_field=field)) for pk, value in values.items()),
        output_field=field,
    )


def orders_start(*, orders: Sequence[Order], agent: str, lease_until: datetime) -> list[Order]:
    """Mark claimed orders running under ``agent``'s lease: one UPDATE, one INSERT of events.

    Each order is pending, or running with a dead lease (a takeover), as read under the row lock
    the caller's claim transaction holds. The UPDATE is guarded by each order's status as read;
    if it does not match every row (the caller did not hold the locks) OrderStateChanged is raised
    and the whole claim transaction must roll back: nothing is written. Returns the orders,
    updated in memory (status, lease, ``started_at``, ``attempts``) without another read.
    """
    if not orders:
        return []
    _check_transitions(orders, lambda o: o.status, Status.RUNNING)
    now = timezone.now()
    by_status: dict[str, list[int]] = {}
    for order in orders:
        by_status.setdefault(order.status, []).append(order.pk)
    guard = Q()
    for status, pks in by_status.items():
        guard |= Q(pk__in=pks, status=status)
    with transaction.atomic(using=PRIMARY, savepoint=False):
        updated = (
            Order.objects.using(PRIMARY)
            .filter(guard)
            .update(
                status=Status.RUNNING,
                lease_owner=agent,
                lease_expires_at=lease_until,
                started_at=Coalesce(F("started_at"), Value(now)),
                attempts=F("attempts") + 1,
            )
        )
        if updated != len(orders):
            raise OrderStateChanged(STATE_CHANGED, number=orders[0].number, expected=Status.PENDING)
        OrderEvent.objects.using(PRIMARY).bulk_create(
            [
                OrderEvent(
                    order=order,
                    from_status=order.status,
                    to_status=Status.RUNNING,
                    agent=agent,
                    created_at=now,
                )
                for order in orders
            ]
        )
    for order in orders:
        order.status = Status.RUNNING
        order.lease_owner = agent
        order.lease_expires_at = lease_until
        order.started_at = order.started_at or now
        order.attempts += 1
    return list(orders)


def orders_complete(*, completions: Sequence[Completion], agent: str) -> list[Order]:
    """Running → completed for the orders ``agent`` still holds, in one transaction.

    Locks the rows by primary key, keeps those still running under ``agent``'s lease (an agent
    presumed dead whose orders were taken over books nothing for them), moves them with one
    guarded UPDATE (everything delivered, no money moves), inserts their events in one INSERT and
    sends ``orders_finished`` with all of them, inside the transaction. Returns the completed
    orders (updated in memory); the others are left as they are.
    """
    if not completions:
        return []
    _check_transitions([c.order for c in completions], lambda o: Status.RUNNING, Status.COMPLETED)
    by_pk = {c.order.pk: c for c in completions}
    with transaction.atomic(using=PRIMARY):
        # By primary key, in key order: the lock order of every other writer of an order.
        rows = (
            Order.objects.using(PRIMARY)
            .select_for_update()
            .filter(pk__in=sorted(by_pk))
            .order_by("pk")
            .values_list("pk", "status", "lease_owner")
        )
        held = [
            by_pk[pk] for pk, status, owner in rows if status == Status.RUNNING and owner == agent
        ]
        if not held:
            return []
        now = timezone.now()
        pks = [c.order.pk for c in held]
        references = {c.order.pk: c.supplier_reference or c.order.supplier_reference for c in held}
        baselines = {c.order.pk: c.baseline_count for c in held}
        updated = (
            Order.objects.using(PRIMARY)
            .filter(pk__in=pks, status=Status.RUNNING, lease_owner=agent)
            .update(
                status=Status.COMPLETED,
                delivered_quantity=F("quantity"),
                baseline_count=_per_order(baselines, models.BigIntegerField()),
                supplier_reference=_per_order(references, models.CharField()),
                finished_at=now,
                lease_expires_at=None,
            )
        )
        if updated != len(held):  # the rows are locked: cannot happen unless the schema lies
            raise OrderStateChanged(
                STATE_CHANGED, number=held[0].order.number, expected=Status.RUNNING
            )
        OrderEvent.objects.using(PRIMARY).bulk_create(
            [
                OrderEvent(
                    order=c.order,
                    from_status=Status.RUNNING,
                    to_status=Status.COMPLETED,
                    agent=agent,
                    message=c.message[:500],
                    message_params=c.message_params,
                    created_at=now,
                )
                for c in held
            ]
        )
        finished = []
        for c in held:
            order = c.order
            order.status = Status.COMPLETED
            order.delivered_quantity = order.quantity
            order.baseline_count = c.baseline_count
            order.supplier_reference = references[order.pk]
            order.finished_at = now
            order.lease_expires_at = None
            finished.append(order)
        orders_finished.send(sender=Order, orders=finished, using=PRIMARY)
    return finished
