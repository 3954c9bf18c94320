"""Order writes: quote, place, cancel, and every status change and lease write of the agent.

Every status change goes through ``order_transition``: the move must be in ``Order.TRANSITIONS``,
and it is a conditional UPDATE from the expected status whose row count is checked, plus an
OrderEvent, in the same transaction as any money it moves. The agent's other writes on orders
(poll turns, lease extension and expiry, "run now") are the named services at the end; nothing
outside this module writes an order's ``status`` or lease.
"""

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connections, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone, translation

from customers.models import Customer
from orders.exceptions import (
    CUSTOMER_INACTIVE,
    DUPLICATE_SUBMIT,
    NOT_CANCELLABLE,
    SERVICE_UNAVAILABLE,
    STATE_CHANGED,
    TRANSITION_NOT_ALLOWED,
    CustomerInactive,
    InvalidTransition,
    OrderNotCancellable,
    OrderStateChanged,
    PriceChanged,
    ServiceUnavailable,
)
from orders.models import Order, OrderEvent, PriceTier, Service, render_message
from orders.pricing import Quote, price, validate_target
from orders.signals import orders_finished
from wallet.models import Account, Entry
from wallet.money import quantize_money
from wallet.services import account_lock, wallet_debit_order_locked, wallet_refund_order

PRIMARY = "default"
Status = Order.Status

# Hooks run after an order commits (the agent connects its wake-up here).
order_placed_hooks: list[Callable[[Order], None]] = []


def order_number_new() -> str:
    """Sortable and readable: local date-time to the millisecond + 4 random digits."""
    now = timezone.localtime()
    return (
        now.strftime("%Y%m%d%H%M%S")
        + f"{now.microsecond // 1000:03d}"
        + (f"{secrets.randbelow(10_000):04d}")
    )


def order_quote(*, customer: Customer, service: Service, quantity) -> Quote:
    """The price this customer would pay now, with the tier and discount behind it."""
    return price(service=service, quantity=quantity, level_percent=customer.level.discount_percent)


def _event(
    order: Order,
    from_status: str,
    to_status: str,
    *,
    actor: AbstractBaseUser | None = None,
    agent: str = "",
    message: str = "",
    message_params: dict | None = None,
) -> OrderEvent:
    """``message_params`` set: ``message`` is a gettext_noop source string, translated when shown."""
    return OrderEvent.objects.using(PRIMARY).create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        agent=agent,
        message=message[:500],
        message_params=message_params,
    )


def order_place(
    *,
    customer: Customer,
    service: Service,
    target: str,
    quantity,
    expected_amount: Decimal | None = None,
    idempotency_key: str | None = None,
    created_by: AbstractBaseUser | None = None,
    memo: str = "",
) -> Order:
    """Price, debit and create the order in one transaction on the locked account.

    ``expected_amount`` is the amount the person confirmed: when the price computed under the
    lock differs (a price, tier, level or discount change since the confirmation), PriceChanged
    carries the new quote and nothing is written. A repeated ``idempotency_key`` for the same
    customer returns the first order, whatever the price now; ``order.replayed`` says which.

    Eight statements on MariaDB and SQLite, BEGIN and COMMIT included (nine with a key; one more
    on PostgreSQL, ``_lock_for_order``): BEGIN, the account lock with the customer's active flag
    and level, the service with its tiers (one joined read), [the key], the order, the balance,
    the entry, the event, COMMIT. ``service`` and ``customer`` may be stale or cached: only their
    primary keys are used under the lock, where everything that sets the price is read fresh.
    """
    validate_target(service=service, target=target)  # early and free; again below on fresh data
    try:
        with transaction.atomic(using=PRIMARY):
            # Under the lock: a double submit waits here for the first and then finds its order.
            account, customer_active, level_percent = _lock_for_order(customer.pk)
            if idempotency_key and (existing := _order_by_key(idempotency_key)):
                return _same_submit(existing, customer)
            if not customer_active:
                raise CustomerInactive(CUSTOMER_INACTIVE)
            # Price from the primary as it is now, read after the lock was granted: a service
            # deactivated or repriced since the form was shown is seen, and a replica's lag (or
            # any cache) never sets a price.
            service, tiers = _service_for_pricing(service)
            target = validate_target(service=service, target=target)
            quote = price(
                service=service, quantity=quantity, level_percent=level_percent, tiers=tiers
            )
            if expected_amount is not None and quote.amount != expected_amount:
                raise PriceChanged(quote=quote)
            order = Order.objects.using(PRIMARY).create(
                number=order_number_new(),
                customer=customer,
                service=service,
                target=target,
                quantity=quote.quantity,
                unit_price=quote.unit_price,
                list_price=quote.list_price,
                level_percent=quote.level_percent,
                amount=quote.amount,
                idempotency_key=idempotency_key or None,
                created_by=created_by,
                memo=memo,
            )
            # The account locked above is handed down: no second lock, no savepoint.
            wallet_debit_order_locked(
                account=account,
                amount=quote.amount,
                order_number=order.number,
                created_by=created_by,
            )
            _event(order, "", Status.PENDING, actor=created_by)
            transaction.on_commit(lambda: _run_placed_hooks(order), using=PRIMARY)
    except IntegrityError:
        # The same key committed for another customer (whose lock we did not wait for), or the
        # key raced past the look-up: the first order is found by its unique key.
        if idempotency_key and (existing := _order_by_key(idempotency_key)):
            return _same_submit(existing, customer)
        raise
    order.replayed = False
    return order


def _lock_for_order(customer_id: int) -> tuple[Account, bool, int]:
    """The customer's account locked FOR UPDATE, the customer's active flag and level percent.

    On MariaDB/MySQL (and SQLite, whose IMMEDIATE transaction already holds the write lock) one
    statement: the customer and level are scalar subqueries of the locking read. InnoDB locks
    only the account row (a join would lock the level row too and serialise every customer of a
    level), and evaluates the subqueries after the lock is granted, so in READ COMMITTED they see
    whatever was committed before it (``test_price_concurrency`` proves it for a level change).
    PostgreSQL takes a statement's snapshot before it waits for a lock, so there the customer is
    read by a second statement after the lock.
    """
    accounts = Account.objects.using(PRIMARY).select_for_update().filter(customer_id=customer_id)
    one_statement = connections[PRIMARY].vendor in ("mysql", "sqlite")
    if one_statement:
        of_customer = Customer.objects.filter(pk=OuterRef("customer_id"))
        accounts = accounts.annotate(
            customer_active=Subquery(of_customer.values("is_active")[:1]),
            level_percent=Subquery(of_customer.values("level__discount_percent")[:1]),
        )
    account = accounts.first()
    if account is None:  # first use: account_lock creates it (customers imported in bulk)
        account_lock(customer_id=customer_id)
        account = accounts.first()
    if one_statement:
        return account, bool(account.customer_active), account.level_percent
    row = (
        Customer.objects.using(PRIMARY)
        .filter(pk=customer_id)
        .values_list("is_active", "level__discount_percent")
        .first()
    )
    return (account, row[0], row[1]) if row else (account, False, 0)


def _order_by_key(idempotency_key: str) -> Order | None:
    return Order.objects.using(PRIMARY).filter(idempotency_key=idempotency_key).first()


_SERVICE_FIELDS = [field.attname for field in Service._meta.concrete_fields]


def _service_for_pricing(service: Service) -> tuple[Service, list[PriceTier]]:
    """The service as the primary has it now, and its tiers by quantity: one joined read."""
    rows = list(
        Service.objects.using(PRIMARY)
        .filter(pk=service.pk)
        .order_by("tiers__quantity")
        .values(*_SERVICE_FIELDS, "tiers__id", "tiers__quantity", "tiers__price")
    )
    if not rows:
        raise ServiceUnavailable(SERVICE_UNAVAILABLE)
    fresh = Service(**{name: rows[0][name] for name in _SERVICE_FIELDS})
    fresh._state.adding, fresh._state.db = False, PRIMARY
    tiers = [
        PriceTier(
            id=row["tiers__id"],
            service=fresh,
            quantity=row["tiers__quantity"],
            price=row["tiers__price"],
        )
        for row in rows
        if row["tiers__id"] is not None
    ]
    return fresh, tiers


def _same_submit(order: Order, customer: Customer) -> Order:
    if order.customer_id != customer.pk:
        raise OrderStateChanged(DUPLICATE_SUBMIT)
    order.replayed = True
    return order


def _run_placed_hooks(order: Order) -> None:
    for hook in order_placed_hooks:
        hook(order)


def _lock_order(pk: int) -> None:
    """Lock the order row by primary key before a conditional update.

    MariaDB may plan ``UPDATE … WHERE id = %s AND status = %s`` through the status index and
    take its locks in another order than a primary-key lock, so two racing transitions could
    deadlock; locking by primary key first gives every writer the same order.
    """
    Order.objects.using(PRIMARY).select_for_update().filter(pk=pk).values_list(
        "pk", flat=True
    ).first()


def order_transition(
    *,
    order: Order,
    expected: str,
    to_status: str,
    actor: AbstractBaseUser | None = None,
    agent: str = "",
    message: str = "",
    message_params: dict | None = None,
    fields: dict | None = None,
) -> Order:
    """The one writer of an order's status: ``expected`` → ``to_status`` with its OrderEvent.

    Raises InvalidTransition (nothing written) when ``Order.TRANSITIONS`` does not allow the
    move, and OrderStateChanged (nothing written) when the order is no longer ``expected``:
    someone else moved it first. ``fields`` are written in the same UPDATE.
    """
    if not Order.can_transition(expected, to_status):
        raise InvalidTransition(
            TRANSITION_NOT_ALLOWED, number=order.number, from_status=expected, to_status=to_status
        )
    with transaction.atomic(using=PRIMARY):
        _lock_order(order.pk)
        updated = (
            Order.objects.using(PRIMARY)
            .filter(pk=order.pk, status=expected)
            .update(status=to_status, **(fields or {}))
        )
        if updated != 1:
            raise OrderStateChanged(STATE_CHANGED, number=order.number, expected=expected)
        _event(
            order,
            expected,
            to_status,
            actor=actor,
            agent=agent,
            message=message,
            message_params=message_params,
        )
        if to_status in Order.TERMINAL:
            order.refresh_from_db(using=PRIMARY)
            orders_finished.send(sender=Order, orders=[order], using=PRIMARY)
            return order
    order.refresh_from_db(using=PRIMARY)
    return order


def _as_text(message: str, message_params: dict | None) -> str:
    """A message rendered once for a plain-text field (last error, a refund's memo).

    In the site's language (``LANGUAGE_CODE``), whoever triggers it: a ledger memo is an
    immutable record and must not depend on the language of the process that wrote it.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return render_message(message, message_params)[:500]


def order_cancel(*, order: Order, actor: AbstractBaseUser | None, reason: str = "") -> Order:
    """Cancel a pending order and refund it in full, in one transaction (撤单)."""
    with transaction.atomic(using=PRIMARY):
        try:
            order = order_transition(
                order=order,
                expected=Status.PENDING,
                to_status=Status.CANCELLED,
                actor=actor,
                message=reason,
                fields={"finished_at": timezone.now()},
            )
        except OrderStateChanged:
            current = Order.objects.using(PRIMARY).get(pk=order.pk)
            raise OrderNotCancellable(
                NOT_CANCELLABLE, number=current.number, status=current.get_status_display()
            ) from None
        wallet_refund_order(
            customer_id=order.customer_id,
            amount=order.amount,
            order_number=order.number,
            kind=Entry.Kind.CANCEL_REFUND,
            created_by=actor,
            memo=reason,
        )
    return order


def order_start(*, order: Order, agent: str, lease_until, expected: str = Status.PENDING) -> Order:
    """Mark a claimed order running under an agent's lease (pending, or running with a dead lease)."""
    return order_transition(
        order=order,
        expected=expected,
        to_status=Status.RUNNING,
        agent=agent,
        fields={
            "lease_owner": agent,
            "lease_expires_at": lease_until,
            "started_at": order.started_at or timezone.now(),
            "attempts": F("attempts") + 1,
        },
    )


def order_complete(
    *,
    order: Order,
    agent: str = "",
    baseline_count: int | None = None,
    supplier_reference: str = "",
    message: str = "",
    message_params: dict | None = None,
) -> Order:
    """Running → completed: everything delivered, no money moves."""
    return order_transition(
        order=order,
        expected=Status.RUNNING,
        to_status=Status.COMPLETED,
        agent=agent,
        message=message,
        message_params=message_params,
        fields={
            "delivered_quantity": order.quantity,
            "baseline_count": baseline_count,
            "supplier_reference": supplier_reference or order.supplier_reference,
            "finished_at": timezone.now(),
            "lease_expires_at": None,
        },
    )


def undelivered_refund(*, order: Order, delivered: int) -> Decimal:
    """The charged share of the undelivered units, half up, never more than was charged."""
    share = order.amount * Decimal(order.quantity - delivered) / Decimal(order.quantity)
    return min(quantize_money(share), order.amount)


def order_partial(
    *,
    order: Order,
    delivered: int,
    agent: str = "",
    baseline_count: int | None = None,
    supplier_reference: str = "",
    message: str = "",
    message_params: dict | None = None,
) -> Order:
    """Running → partial: refund the undelivered share (退款) in the same transaction."""
    if not 0 < delivered < order.quantity:
        raise ValueError("a partial delivery is between 1 and quantity - 1")
    refund = undelivered_refund(order=order, delivered=delivered)
    with transaction.atomic(using=PRIMARY):
        order = order_transition(
            order=order,
            expected=Status.RUNNING,
            to_status=Status.PARTIAL,
            agent=agent,
            message=message,
            message_params=message_params,
            fields={
                "delivered_quantity": delivered,
                "baseline_count": baseline_count,
                "supplier_reference": supplier_reference or order.supplier_reference,
                "finished_at": timezone.now(),
                "lease_expires_at": None,
            },
        )
        if refund > 0:
            wallet_refund_order(
                customer_id=order.customer_id,
                amount=refund,
                order_number=order.number,
                memo=_as_text(message, message_params),
            )
    return order


def order_fail(
    *,
    order: Order,
    agent: str = "",
    message: str = "",
    message_params: dict | None = None,
    expected: str = Status.RUNNING,
) -> Order:
    """Running (or pending) → failed with a full refund (退款) in the same transaction."""
    text = _as_text(message, message_params)
    with transaction.atomic(using=PRIMARY):
        order = order_transition(
            order=order,
            expected=expected,
            to_status=Status.FAILED,
            agent=agent,
            message=message,
            message_params=message_params,
            fields={"last_error": text, "finished_at": timezone.now(), "lease_expires_at": None},
        )
        if order.amount > 0:
            wallet_refund_order(
                customer_id=order.customer_id,
                amount=order.amount,
                order_number=order.number,
                memo=text,
            )
    return order


def order_release(
    *,
    order: Order,
    agent: str = "",
    message: str = "",
    message_params: dict | None = None,
    not_before: datetime | None = None,
) -> Order:
    """Running → pending: the agent gives the order back (shutdown, supplier unreachable).

    ``not_before``: due again only then (a retry delay); None makes it due at once.
    """
    return order_transition(
        order=order,
        expected=Status.RUNNING,
        to_status=Status.PENDING,
        agent=agent,
        message=message,
        message_params=message_params,
        fields={
            "last_error": _as_text(message, message_params),
            "lease_owner": "",
            "lease_expires_at": not_before,
        },
    )


def order_accept(
    *,
    order: Order,
    agent: str,
    poll_at: datetime,
    supplier_reference: str = "",
    baseline_count: int | None = None,
    message: str = "",
    message_params: dict | None = None,
) -> bool:
    """The supplier took the running order and answers later: running, held by no agent.

    The first acceptance is a running → running transition with its event; an accepted order
    that a status query finds still accepted only gets its next poll time (no event). Returns
    whether this was the first acceptance; raises OrderStateChanged if it is not running.
    """
    fields = {
        "supplier_reference": supplier_reference or order.supplier_reference,
        "lease_owner": "",
        "lease_expires_at": poll_at,
    }
    if baseline_count is not None:
        fields["baseline_count"] = baseline_count
    if order.status == Status.RUNNING and not order.lease_owner:  # already accepted
        updated = (
            Order.objects.using(PRIMARY).filter(pk=order.pk, status=Status.RUNNING).update(**fields)
        )
        if updated != 1:
            raise OrderStateChanged(STATE_CHANGED, number=order.number, expected=Status.RUNNING)
        return False
    order_transition(
        order=order,
        expected=Status.RUNNING,
        to_status=Status.RUNNING,
        agent=agent,
        message=message,
        message_params=message_params,
        fields=fields,
    )
    return True


# -- the agent's writes that change no status -------------------------------------------------


def order_poll_turn_take(*, order: Order, lease_until: datetime) -> bool:
    """Hold an accepted order while asking the supplier about it (not an attempt, no event).

    The turn is held by the exact ``lease_expires_at`` it sets (the poll token): only the one
    who read the previous token can take it. Returns False when someone else took it first.
    """
    updated = (
        Order.objects.using(PRIMARY)
        .filter(
            pk=order.pk,
            status=Status.RUNNING,
            lease_owner="",
            lease_expires_at=order.lease_expires_at,
        )
        .update(lease_expires_at=lease_until)
    )
    if updated != 1:
        return False
    order.lease_expires_at = lease_until
    return True


def order_poll_failed(*, order: Order, token: datetime, error: str, poll_at: datetime) -> bool:
    """A status query failed: the supplier still has the order; record it, ask again at
    ``poll_at``. Does nothing (False) unless the poll turn ``token`` is still ours."""
    return bool(
        Order.objects.using(PRIMARY)
        .filter(pk=order.pk, status=Status.RUNNING, lease_owner="", lease_expires_at=token)
        .update(last_error=error[:2000], lease_expires_at=poll_at)
    )


def order_leases_extend(*, agent: str, order_ids: Sequence[int], lease_until: datetime) -> int:
    """Push forward the lease of the orders ``agent`` runs, in one statement for all of them.

    Only orders still running under this agent's name are touched; returns how many it holds.
    """
    if not order_ids:
        return 0
    return (
        Order.objects.using(PRIMARY)
        .filter(pk__in=list(order_ids), status=Status.RUNNING, lease_owner=agent)
        .update(lease_expires_at=lease_until)
    )


def order_leases_expire(*, agent: str) -> int:
    """End every lease ``agent`` holds now (its process is known dead): due for a claim at once.

    The claim then re-runs them (running → running under the new lease, an attempt like any
    other) under the usual exactly-once rules. Accepted orders are held by no agent and are not
    touched. Returns how many leases ended.
    """
    now = timezone.now()
    return (
        Order.objects.using(PRIMARY)
        .filter(status=Status.RUNNING, lease_owner=agent, lease_expires_at__gt=now)
        .update(lease_expires_at=now)
    )


def orders_make_due(*, order_numbers: Sequence[str]) -> int:
    """ "Run now": pending orders lose any retry delay and are due at once; returns how many."""
    if not order_numbers:
        return 0
    return (
        Order.objects.using(PRIMARY)
        .filter(number__in=list(order_numbers), status=Status.PENDING)
        .update(lease_expires_at=None)
    )
