"""Order admin, split by seam: orders and services (orders.py), agents (agents.py)."""

from orders.admin import agents, orders  # noqa: F401  (registration happens on import)
