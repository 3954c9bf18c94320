"""The demo backend: pretends to fulfil orders, with configurable time, partials and failures.

OPTIONS (all optional)::

    "duration": 2.0,        # seconds one order takes (0 for none); each order takes 0.5–1.5 ×
    "partial_rate": 0.1,    # share of orders only partly delivered
    "failure_rate": 0.05,   # share of orders that fail (nothing delivered, full refund)
    "seed": 0,              # same seed + same order number → same outcome, on any machine

The outcome is drawn from a generator seeded with ``(seed, order number)``, so it does not
depend on which agent or thread runs the order, nor on how often it is retried: a crashed and
retried order gets the same answer, as it would from an idempotent real supplier.
"""

import random
import time

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

from orders.fulfilment.base import BaseBackend, FulfilmentResult, Outcome

# Stored on the order's events as source strings with parameters: each viewer reads them in
# their own language.
SIMULATED_FAILURE = gettext_noop("Simulated failure.")
SIMULATED_PARTIAL = gettext_noop("Simulated partial delivery: %(delivered)d of %(quantity)d.")


class SimulatedBackend(BaseBackend):
    """Fulfil after ``duration`` seconds; partial or fail at the configured rates."""

    def __init__(self, *, name: str, duration=0.0, partial_rate=0.0, failure_rate=0.0, seed=0):
        super().__init__(
            name=name,
            duration=duration,
            partial_rate=partial_rate,
            failure_rate=failure_rate,
            seed=seed,
        )
        self.duration = float(duration)
        self.partial_rate = float(partial_rate)
        self.failure_rate = float(failure_rate)
        self.seed = seed
        rates = (self.partial_rate, self.failure_rate)
        if self.duration < 0 or min(rates) < 0 or sum(rates) > 1:
            raise ImproperlyConfigured(
                f"Fulfilment backend {name!r}: duration must be >= 0 and the rates in 0..1 "
                "with partial_rate + failure_rate <= 1"
            )

    def _random(self, order) -> random.Random:
        return random.Random(f"{self.seed}:{order.number}")

    def execute(self, order) -> FulfilmentResult:
        """Wait ``duration`` (± half), then complete, partly deliver or fail."""
        rng = self._random(order)
        jitter = rng.uniform(0.5, 1.5)  # drawn even at zero duration: same outcome either way
        if self.duration:
            time.sleep(self.duration * jitter)
        baseline = rng.randint(0, 10_000)
        reference = f"SIM-{order.number}"
        draw = rng.random()
        if draw < self.failure_rate:
            return FulfilmentResult(
                outcome=Outcome.FAILED,
                baseline_count=baseline,
                supplier_reference=reference,
                message=SIMULATED_FAILURE,
                message_params={},
            )
        if draw < self.failure_rate + self.partial_rate and order.quantity > 1:
            delivered = rng.randint(1, order.quantity - 1)
            return FulfilmentResult(
                outcome=Outcome.PARTIAL,
                delivered_quantity=delivered,
                baseline_count=baseline,
                supplier_reference=reference,
                message=SIMULATED_PARTIAL,
                message_params={"delivered": delivered, "quantity": order.quantity},
            )
        return FulfilmentResult(
            outcome=Outcome.COMPLETED,
            delivered_quantity=order.quantity,
            baseline_count=baseline,
            supplier_reference=reference,
        )
