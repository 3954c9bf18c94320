"""A reseller's own order id (``client_order_id``) and the order it names.

No column of its own: the order's unique ``idempotency_key`` holds
``api:<customer id>:<client_order_id>``, so ``order_place`` finds a repeat under the account
lock and the unique index serves the look-up. Anything that shows an order to the reseller
(the API, the webhook payload) reads the id back from here.
"""

from orders.models import Order


def client_order_key(customer_id: int, client_order_id: str) -> str:
    """The idempotency key an API order is placed with."""
    return f"api:{customer_id}:{client_order_id}"


def client_order_id_of(order: Order) -> str | None:
    """The reseller's id of an order placed through the API; None for any other order."""
    prefix = client_order_key(order.customer_id, "")
    key = order.idempotency_key or ""
    return key[len(prefix) :] if key.startswith(prefix) else None
