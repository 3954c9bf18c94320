"""The fulfilment backend interface.

A backend turns one claimed order into a result. It is called by the agent *after* the claim has
committed and never while a row lock is held, so it may talk to the network. The order number is
the idempotency key of every supplier request: a retry after a crash must not deliver twice at a
well-behaved supplier.
"""

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    COMPLETED = "completed"  # everything delivered
    PARTIAL = "partial"  # some delivered; the undelivered share is refunded
    FAILED = "failed"  # nothing delivered; full refund
    ACCEPTED = "accepted"  # the supplier took it and will answer later (callback or poll)


@dataclass(frozen=True)
class FulfilmentResult:
    outcome: Outcome
    delivered_quantity: int = 0
    baseline_count: int | None = None  # what the supplier reported before it started
    supplier_reference: str = ""
    message: str = ""
    # Set: ``message`` is a gettext_noop source string, shown translated with these parameters
    # (None: ``message`` is literal text, e.g. the supplier's own words).
    message_params: dict | None = None

    @property
    def text(self) -> str:
        """The message with its parameters, in the active language."""
        from orders.models import render_message

        return render_message(self.message, self.message_params)


class FulfilmentOrder:
    """What a backend may read of an order (the Order model satisfies it).

    Attributes: ``number`` (str, the idempotency key), ``target`` (str), ``quantity`` (int),
    ``supplier_reference`` (str, set after an ACCEPTED result), ``service`` (with ``name``).
    """


class BaseBackend:
    """Subclass and implement ``execute``; implement ``poll`` if the supplier answers later."""

    def __init__(self, *, name: str, **options):
        self.name = name
        self.options = options

    def execute(self, order) -> FulfilmentResult:
        """Fulfil the order (or hand it to the supplier) and say what happened."""
        raise NotImplementedError

    def poll(self, order) -> FulfilmentResult:
        """Ask the supplier about an ACCEPTED order; ACCEPTED again means "not yet"."""
        raise NotImplementedError(f"{type(self).__name__} does not support polling")
