"""Order admin, split by seam: orders and services (orders.py), agents (agents.py), the
customer page's 代客户下单 and latest orders (customer.py)."""

from orders.admin import agents, customer, orders  # noqa: F401  (registration on import)
