"""Order writes: quote, place, cancel, and the guarded status transitions the agent uses.

Every status change is a conditional UPDATE from the expected status whose row count is
checked, plus an OrderEvent, in the same transaction as any money it moves.
"""

import secrets
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer
from orders.exceptions import (
    CUSTOMER_INACTIVE,
    DUPLICATE_SUBMIT,
    NOT_CANCELLABLE,
    SERVICE_UNAVAILABLE,
    STATE_CHANGED,
    CustomerInactive,
    OrderNotCancellable,
    OrderStateChanged,
    PriceChanged,
    ServiceUnavailable,
)
from orders.models import Order, OrderEvent, Service
from orders.pricing import Quote, price, validate_target
from wallet.models import Entry
from wallet.money import quantize_money
from wallet.services import account_lock, wallet_debit_order, wallet_refund_order

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
) -> OrderEvent:
    return OrderEvent.objects.using(PRIMARY).create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        agent=agent,
        message=message[:500],
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
    """
    target = validate_target(service=service, target=target)
    try:
        with transaction.atomic(using=PRIMARY):
            account_lock(customer_id=customer.pk)
            # Under the lock: a double submit waits here for the first and then finds its order.
            if idempotency_key and (existing := _order_by_key(idempotency_key)):
                return _same_submit(existing, customer)
            # Re-read under the lock: deactivation and level changes are seen at once.
            customer = Customer.objects.using(PRIMARY).select_related("level").get(pk=customer.pk)
            if not customer.is_active:
                raise CustomerInactive(CUSTOMER_INACTIVE)
            # Price from the primary as it is now: a service deactivated or repriced since the
            # form was shown is seen, and a replica's lag never sets a price.
            service = _service_for_pricing(service)
            quote = order_quote(customer=customer, service=service, quantity=quantity)
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
            wallet_debit_order(
                customer_id=customer.pk,
                amount=quote.amount,
                order_number=order.number,
                created_by=created_by,
            )
            _event(order, "", Status.PENDING, actor=created_by)
            transaction.on_commit(lambda: _run_placed_hooks(order), using=PRIMARY)
    except IntegrityError:
        # The same key committed for another customer (whose lock we did not wait for).
        if idempotency_key and (existing := _order_by_key(idempotency_key)):
            return _same_submit(existing, customer)
        raise
    order.replayed = False
    return order


def _order_by_key(idempotency_key: str) -> Order | None:
    return Order.objects.using(PRIMARY).filter(idempotency_key=idempotency_key).first()


def _service_for_pricing(service: Service) -> Service:
    try:
        return Service.objects.using(PRIMARY).prefetch_related("tiers").get(pk=service.pk)
    except Service.DoesNotExist as exc:
        raise ServiceUnavailable(SERVICE_UNAVAILABLE) from exc


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


def _transition(
    order: Order,
    expected: str,
    to_status: str,
    *,
    actor: AbstractBaseUser | None = None,
    agent: str = "",
    message: str = "",
    **fields,
) -> Order:
    """Compare-and-set the status; raise OrderStateChanged when someone else moved it first."""
    _lock_order(order.pk)
    updated = (
        Order.objects.using(PRIMARY)
        .filter(pk=order.pk, status=expected)
        .update(status=to_status, **fields)
    )
    if updated != 1:
        raise OrderStateChanged(STATE_CHANGED, number=order.number, expected=expected)
    _event(order, expected, to_status, actor=actor, agent=agent, message=message)
    order.refresh_from_db(using=PRIMARY)
    return order


def order_cancel(*, order: Order, actor: AbstractBaseUser | None, reason: str = "") -> Order:
    """Cancel a pending order and refund it in full, in one transaction (撤单)."""
    with transaction.atomic(using=PRIMARY):
        _lock_order(order.pk)
        updated = (
            Order.objects.using(PRIMARY)
            .filter(pk=order.pk, status=Status.PENDING)
            .update(status=Status.CANCELLED, finished_at=timezone.now())
        )
        if updated != 1:
            current = Order.objects.using(PRIMARY).get(pk=order.pk)
            raise OrderNotCancellable(
                NOT_CANCELLABLE, number=current.number, status=current.get_status_display()
            )
        _event(order, Status.PENDING, Status.CANCELLED, actor=actor, message=reason)
        wallet_refund_order(
            customer_id=order.customer_id,
            amount=order.amount,
            order_number=order.number,
            kind=Entry.Kind.CANCEL_REFUND,
            created_by=actor,
            memo=reason,
        )
    order.refresh_from_db(using=PRIMARY)
    return order


def order_start(*, order: Order, agent: str, lease_until, expected: str = Status.PENDING) -> Order:
    """Mark a claimed order running under an agent's lease (pending, or running with a dead lease)."""
    with transaction.atomic(using=PRIMARY):
        return _transition(
            order,
            expected,
            Status.RUNNING,
            agent=agent,
            lease_owner=agent,
            lease_expires_at=lease_until,
            started_at=order.started_at or timezone.now(),
            attempts=F("attempts") + 1,
        )


def order_complete(
    *,
    order: Order,
    agent: str = "",
    baseline_count: int | None = None,
    supplier_reference: str = "",
    message: str = "",
) -> Order:
    """Running → completed: everything delivered, no money moves."""
    with transaction.atomic(using=PRIMARY):
        return _transition(
            order,
            Status.RUNNING,
            Status.COMPLETED,
            agent=agent,
            message=message,
            delivered_quantity=order.quantity,
            baseline_count=baseline_count,
            supplier_reference=supplier_reference or order.supplier_reference,
            finished_at=timezone.now(),
            lease_expires_at=None,
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
) -> Order:
    """Running → partial: refund the undelivered share (退款) in the same transaction."""
    if not 0 < delivered < order.quantity:
        raise ValueError("a partial delivery is between 1 and quantity - 1")
    refund = undelivered_refund(order=order, delivered=delivered)
    with transaction.atomic(using=PRIMARY):
        order = _transition(
            order,
            Status.RUNNING,
            Status.PARTIAL,
            agent=agent,
            message=message,
            delivered_quantity=delivered,
            baseline_count=baseline_count,
            supplier_reference=supplier_reference or order.supplier_reference,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if refund > 0:
            wallet_refund_order(
                customer_id=order.customer_id,
                amount=refund,
                order_number=order.number,
                memo=message,
            )
    return order


def order_fail(
    *, order: Order, agent: str = "", message: str = "", expected: str = Status.RUNNING
) -> Order:
    """Running (or pending) → failed with a full refund (退款) in the same transaction."""
    with transaction.atomic(using=PRIMARY):
        order = _transition(
            order,
            expected,
            Status.FAILED,
            agent=agent,
            message=message,
            last_error=message,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if order.amount > 0:
            wallet_refund_order(
                customer_id=order.customer_id,
                amount=order.amount,
                order_number=order.number,
                memo=message,
            )
    return order


def order_release(*, order: Order, agent: str = "", message: str = "") -> Order:
    """Running → pending: the agent gives the order back (shutdown, supplier unreachable)."""
    with transaction.atomic(using=PRIMARY):
        return _transition(
            order,
            Status.RUNNING,
            Status.PENDING,
            agent=agent,
            message=message,
            last_error=message,
            lease_owner="",
            lease_expires_at=None,
        )
