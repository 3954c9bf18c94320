"""The supplier's callback: which secret signs it, what its body means, and booking it.

Body (JSON, signed like every webhook message, see ``orders.fulfilment.signing``)::

    {"order_number": "2026…", "status": "completed"|"partial"|"failed"|"accepted",
     "delivered": int, "baseline": int|null, "reference": str, "message": str}

``accepted`` keeps the order running (and records the reference); the others finish it through
the same services as the agent, with the same refunds.
"""

from django.conf import settings

from orders.agent.worker import finish
from orders.fulfilment import FulfilmentResult
from orders.fulfilment.webhook import MalformedAnswer, supplier_result
from orders.models import Order

CALLBACK_AGENT = "callback"
MAX_AGE_SECONDS = 300  # a signed callback older (or newer) than this is refused


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


def parse_callback(data: dict, order: Order) -> FulfilmentResult:
    """The result the supplier reports, checked against the order (the webhook's own rules)."""
    try:
        return supplier_result(data, order, check_reference=True, default_delivered=True)
    except MalformedAnswer as exc:
        raise CallbackInvalid(str(exc)) from exc


def callback_apply(*, order: Order, result: FulfilmentResult) -> str:
    """Book the supplier's answer on a running order; the worker outcome (LOST if it moved)."""
    return finish(order, result, agent=CALLBACK_AGENT, leased=False)
