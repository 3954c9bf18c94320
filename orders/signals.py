"""Signals the orders app sends for other apps to hang work on without orders knowing them.

``orders_finished`` is sent **inside** the transaction that moved the orders to a final status
(completed, partial, failed, cancelled), after the status and its event are written: a receiver
that writes rows (a webhook outbox) commits or rolls back with the status change. Receivers must
not do slow work here (no network); they write a row and return.

    orders_finished.send(sender=Order, orders=[order, ...], using="default")
"""

from django.dispatch import Signal

orders_finished = Signal()
