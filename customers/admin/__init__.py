"""Customer admin, split by seam: levels (levels.py), customers (customers.py), the bulk
actions on customers (actions.py). ``CustomerAdmin`` and ``LevelAdmin`` keep these names:
apps above this one subclass ``CustomerAdmin`` and re-register it."""

from customers.admin.customers import CustomerAdmin
from customers.admin.levels import LevelAdmin

__all__ = ["CustomerAdmin", "LevelAdmin"]
