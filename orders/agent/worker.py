"""Running one claimed order through its backend and booking the result.

The backend is called with no transaction open and no row locked. Its result is booked through
the order services (each a guarded status change with its OrderEvent and refund), inside a short
transaction that first checks this agent still holds the lease: an agent that was presumed dead
and lost its order to another one must not book a second result. Completed orders of the agent's
own claims may be booked together (``finish_completed``, ``orders.batch.orders_complete``): one
locking read, one guarded UPDATE, one INSERT of their events for the lot.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from orders.agent import conf
from orders.agent.claim import Claim
from orders.agent.retry import retry_deadlocks
from orders.batch import Completion, orders_complete
from orders.exceptions import OrderStateChanged
from orders.fulfilment import FulfilmentResult, Outcome, get_backend
from orders.models import Order
from orders.services import (
    order_accept,
    order_complete,
    order_fail,
    order_partial,
    order_poll_failed,
    order_release,
)

logger = logging.getLogger(__name__)

PRIMARY = "default"
Status = Order.Status

# What happened to an order this time (the runner counts these).
COMPLETED, PARTIAL, FAILED = "completed", "partial", "failed"
ACCEPTED = "accepted"  # the supplier will answer later (callback or poll)
WAITING = "waiting"  # a status query said "not yet"
RELEASED = "released"  # the backend raised; pending again after a retry delay
POLL_ERROR = "poll error"  # a status query raised; asked again later
LOST = "lost"  # another agent took the order over; nothing booked
TERMINAL_OUTCOMES = (COMPLETED, PARTIAL, FAILED)
ERROR = "error"  # the result could not be booked (e.g. the database went away)
# What run_agent prints for each outcome (its per-order lines and the summary).
OUTCOME_LABELS = {
    COMPLETED: gettext_noop("completed"),
    PARTIAL: gettext_noop("partially completed"),
    FAILED: gettext_noop("failed"),
    ACCEPTED: gettext_noop("accepted by the supplier"),
    WAITING: gettext_noop("still with the supplier"),
    RELEASED: gettext_noop("released"),
    POLL_ERROR: gettext_noop("status query failed"),
    LOST: gettext_noop("taken over by another agent"),
    ERROR: gettext_noop("not booked (error)"),
}

SUPPLIER_FAILED = gettext_noop("The supplier could not fulfil the order.")
SUPPLIER_ACCEPTED = gettext_noop("The supplier accepted the order (reference %(reference)s).")
BACKEND_ERROR = gettext_noop("Fulfilment backend error, will retry: %(error)s")
INVALID_RESULT = "invalid result from backend {name!r}: {problem}"


def outcome_label(outcome: str) -> str:
    """An outcome in the active language (unknown ones as they are)."""
    label = OUTCOME_LABELS.get(outcome)
    return gettext(label) if label else outcome


class InvalidResult(Exception):
    """A backend returned something that is not a usable FulfilmentResult."""


def run_claim(claim: Claim, *, agent: str) -> str:
    """Execute (or poll) the claimed order and book what the backend said; returns the outcome."""
    result = execute_claim(claim, agent=agent)
    if isinstance(result, str):
        return result
    return finish(claim.order, result, agent=agent, poll_token=claim.poll_token)


def execute_claim(claim: Claim, *, agent: str) -> FulfilmentResult | str:
    """Call the backend (no transaction open): its checked result, to be booked by the caller;
    or, when it raised, the outcome already booked (released, or the status query failed)."""
    order = claim.order
    try:
        backend = get_backend(order.service.backend)
        result = backend.poll(order) if claim.poll else backend.execute(order)
        _check(result, order, backend.name)
    except Exception as exc:  # noqa: BLE001 - any backend failure is retried, never lost
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("order %s: backend error: %s", order.number, error, exc_info=True)
        if claim.poll:
            return _poll_failed(order, token=claim.poll_token, error=error)
        return _release(order, agent=agent, error=error)
    return result


def _delivered_in_full(order: Order, result: FulfilmentResult) -> bool:
    return result.outcome == Outcome.COMPLETED or (
        result.outcome == Outcome.PARTIAL and result.delivered_quantity >= order.quantity
    )


def completes_in_bulk(claim: Claim, result: FulfilmentResult) -> bool:
    """Whether this result may be booked with others (``finish_completed``): the agent's own
    claim (held by name, not a status query's poll turn), delivered in full, so no money moves."""
    return not claim.poll and _delivered_in_full(claim.order, result)


def finish_completed(done: list[tuple[Claim, FulfilmentResult]], *, agent: str) -> list[str]:
    """Book completed orders together (``orders_complete``): one transaction, a fixed number of
    statements. Returns an outcome per claim, in order: completed, or lost (taken over)."""
    completions = [
        Completion(
            order=claim.order,
            baseline_count=result.baseline_count,
            supplier_reference=result.supplier_reference,
            message=result.message,
            message_params=result.message_params,
        )
        for claim, result in done
    ]
    booked = retry_deadlocks(lambda: orders_complete(completions=completions, agent=agent))
    completed = {order.pk for order in booked}
    return [COMPLETED if claim.order.pk in completed else LOST for claim, _result in done]


def _check(result, order: Order, name: str) -> None:
    if not isinstance(result, FulfilmentResult):
        raise InvalidResult(INVALID_RESULT.format(name=name, problem=f"{result!r}"))
    delivered = result.delivered_quantity
    if result.outcome not in tuple(Outcome):
        raise InvalidResult(INVALID_RESULT.format(name=name, problem=f"outcome {result.outcome!r}"))
    if not isinstance(delivered, int) or not 0 <= delivered <= order.quantity:
        raise InvalidResult(
            INVALID_RESULT.format(name=name, problem=f"delivered {delivered!r} of {order.quantity}")
        )
    # Contradictions are not guessed at: refunding delivered work, or keeping money for nothing.
    if (result.outcome == Outcome.FAILED and delivered) or (
        result.outcome == Outcome.PARTIAL and not delivered
    ):
        problem = f"{result.outcome} with {delivered} of {order.quantity} delivered"
        raise InvalidResult(INVALID_RESULT.format(name=name, problem=problem))


def _holds_lease(order: Order, agent: str, poll_token=None) -> bool:
    """Lock the order row if it is still ours (inside an atomic): by name, or by poll token."""
    held = (
        Order.objects.using(PRIMARY).select_for_update().filter(pk=order.pk, status=Status.RUNNING)
    )
    if poll_token is None:
        held = held.filter(lease_owner=agent)
    else:
        held = held.filter(lease_owner="", lease_expires_at=poll_token)
    return held.values_list("pk", flat=True).first() is not None


def _lock_running(order: Order) -> bool:
    """Lock the order row by primary key if it is running (inside an atomic)."""
    held = (
        Order.objects.using(PRIMARY).select_for_update().filter(pk=order.pk, status=Status.RUNNING)
    )
    return held.values_list("pk", flat=True).first() is not None


def finish(
    order: Order,
    result: FulfilmentResult,
    *,
    agent: str,
    poll_token=None,
    leased: bool = True,
) -> str:
    """Book a result: completed, partial (refund the rest), failed (refund all) or accepted.

    With ``leased`` (the agent's own results) nothing is booked unless the agent still holds the
    order (by name, or for a status query by ``poll_token``); the supplier's callback books
    without a lease (``leased=False``), on the running status alone.
    """

    def book() -> str:
        with transaction.atomic(using=PRIMARY):
            if leased and not _holds_lease(order, agent, poll_token):
                return LOST
            if not leased and not _lock_running(order):
                return LOST
            return _book(order, result, agent=agent)

    try:
        return retry_deadlocks(book)
    except OrderStateChanged:
        return LOST


def _book(order: Order, result: FulfilmentResult, *, agent: str) -> str:
    details = {
        "agent": agent,
        "message": result.message,
        "message_params": result.message_params,
        "supplier_reference": result.supplier_reference,
    }
    delivered = result.delivered_quantity
    if result.outcome == Outcome.ACCEPTED:
        return _accepted(order, result, agent=agent)
    if _delivered_in_full(order, result):
        order_complete(order=order, baseline_count=result.baseline_count, **details)
        return COMPLETED
    if result.outcome == Outcome.PARTIAL and delivered > 0:
        order_partial(
            order=order, delivered=delivered, baseline_count=result.baseline_count, **details
        )
        return PARTIAL
    if result.message:
        order_fail(
            order=order, agent=agent, message=result.message, message_params=result.message_params
        )
    else:
        order_fail(order=order, agent=agent, message=SUPPLIER_FAILED, message_params={})
    return FAILED


def _accepted(order: Order, result: FulfilmentResult, *, agent: str) -> str:
    """Keep the order running, held by no agent, until the supplier answers; poll it later."""
    reference = result.supplier_reference or order.supplier_reference
    if result.message:
        message, params = result.message, result.message_params
    else:
        message, params = SUPPLIER_ACCEPTED, {"reference": reference or "-"}
    first = order_accept(
        order=order,
        agent=agent,
        poll_at=timezone.now() + timedelta(seconds=conf.accepted_poll_seconds()),
        supplier_reference=reference,
        baseline_count=result.baseline_count,
        message=message,
        message_params=params,
    )
    return ACCEPTED if first else WAITING


def _release(order: Order, *, agent: str, error: str) -> str:
    """Give the order back as pending, due again after the retry delay (never refunded here)."""
    not_before = timezone.now() + timedelta(seconds=conf.retry_delay(order.attempts))

    def release() -> str:
        with transaction.atomic(using=PRIMARY):
            if not _holds_lease(order, agent):
                return LOST
            order_release(
                order=order,
                agent=agent,
                message=BACKEND_ERROR,
                message_params={"error": error},
                not_before=not_before,
            )
        return RELEASED

    try:
        return retry_deadlocks(release)
    except OrderStateChanged:
        return LOST


def _poll_failed(order: Order, *, token, error: str) -> str:
    """A status query failed: the supplier still has the order; ask again later."""
    poll_at = timezone.now() + timedelta(seconds=conf.accepted_poll_seconds())
    order_poll_failed(order=order, token=token, error=error, poll_at=poll_at)
    return POLL_ERROR


def order_release_now(
    order: Order, *, agent: str, message: str, message_params: dict | None = None
) -> bool:
    """Release an order this agent claimed but will not run (shutting down); due at once."""
    try:
        with transaction.atomic(using=PRIMARY):
            if not _holds_lease(order, agent):
                return False
            order_release(order=order, agent=agent, message=message, message_params=message_params)
    except OrderStateChanged:
        return False
    return True
