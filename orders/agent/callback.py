"""The supplier's callback: which secret signs it, what its body means, and booking it.

Body (JSON, signed like every webhook message, see ``orders.fulfilment.signing``)::

    {"order_number": "2026…", "status": "completed"|"partial"|"failed"|"accepted",
     "delivered": int, "baseline": int|null, "reference": str, "message": str}

``accepted`` keeps the order running (and records the reference); the others finish it through
the same services as the agent, with the same refunds.
"""

from django.conf import settings

from orders.agent.worker import finish
from orders.fulfilment import FulfilmentResult, Outcome
from orders.models import Order

CALLBACK_AGENT = "callback"
MAX_AGE_SECONDS = 300  # a signed callback older (or newer) than this is refused
MAX_REFERENCE_LENGTH = 100
MAX_MESSAGE_LENGTH = 500


class CallbackInvalid(ValueError):
    """The body is signed but does not describe a possible result for this order."""


def backend_secret(name: str) -> str:
    """The shared secret of a configured backend ("" when it has none)."""
    config = settings.FULFILMENT_BACKENDS.get(name) or {}
    secret = (config.get("OPTIONS") or {}).get("secret")
    return secret if isinstance(secret, str) else ""


def callback_secrets(order: Order | None) -> list[str]:
    """The secrets a callback may be signed with: its service's, or any (unknown order)."""
    names = [order.service.backend] if order is not None else list(settings.FULFILMENT_BACKENDS)
    return [secret for name in names if (secret := backend_secret(name))]


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_callback(data: dict, order: Order) -> FulfilmentResult:
    """The result the supplier reports, checked against the order."""
    try:
        outcome = Outcome(data.get("status"))
    except ValueError as exc:
        raise CallbackInvalid(f"unknown status {data.get('status')!r}") from exc
    delivered = data.get("delivered", order.quantity if outcome == Outcome.COMPLETED else 0)
    if not _integer(delivered) or not 0 <= delivered <= order.quantity:
        raise CallbackInvalid(f"delivered must be an integer in 0..{order.quantity}")
    consistent = {
        Outcome.COMPLETED: delivered == order.quantity,
        Outcome.PARTIAL: 0 < delivered < order.quantity,
        Outcome.FAILED: delivered == 0,
        Outcome.ACCEPTED: True,
    }[outcome]
    if not consistent:
        raise CallbackInvalid(f"{outcome} with delivered {delivered} of {order.quantity}")
    baseline = data.get("baseline")
    if baseline is not None and (not _integer(baseline) or not 0 <= baseline < 2**63):
        raise CallbackInvalid("baseline must be a non-negative integer or null")
    reference = data.get("reference") or ""
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_LENGTH:
        raise CallbackInvalid(f"reference must be a string of at most {MAX_REFERENCE_LENGTH}")
    if reference and order.supplier_reference and reference != order.supplier_reference:
        raise CallbackInvalid("reference does not match the order's supplier reference")
    message = data.get("message") or ""
    if not isinstance(message, str):
        raise CallbackInvalid("message must be a string")
    return FulfilmentResult(
        outcome=outcome,
        delivered_quantity=delivered,
        baseline_count=baseline,
        supplier_reference=reference or order.supplier_reference,
        message=message[:MAX_MESSAGE_LENGTH],
    )


def callback_apply(*, order: Order, result: FulfilmentResult) -> str:
    """Book the supplier's answer on a running order; the worker outcome (LOST if it moved)."""
    return finish(order, result, agent=CALLBACK_AGENT, leased=False)
