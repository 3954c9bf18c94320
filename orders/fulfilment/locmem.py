"""The test backend: records every call and answers what the test scripted.

    from orders.fulfilment import locmem

    locmem.reset()                                   # forget calls and scripts
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=3))
    locmem.script("*", RuntimeError("supplier down"))  # every order without its own script
    ...
    locmem.calls                                     # [Call(backend, method, number, ...)]
    locmem.calls_for(order.number)

A script entry is a FulfilmentResult (returned), an exception (raised), or a callable taking the
order. Several entries for one key are used in turn, the last one repeating. With no script the
order completes in full. OPTIONS: ``delay`` (seconds to sleep in each call, default 0) and
``secret`` (for the supplier callback tests). State is per process and thread-safe.
"""

import threading
import time
from dataclasses import dataclass

from orders.fulfilment.base import BaseBackend, FulfilmentResult, Outcome

ANY = "*"


@dataclass(frozen=True)
class Call:
    backend: str
    method: str  # "execute" or "poll"
    number: str
    target: str
    quantity: int
    supplier_reference: str


calls: list[Call] = []
_scripts: dict[str, list] = {}
_lock = threading.Lock()


def reset() -> None:
    """Forget every call and script."""
    with _lock:
        calls.clear()
        _scripts.clear()


def script(number: str, *answers) -> None:
    """What the backend answers for order ``number`` (or ``ANY``), in turn, the last repeating."""
    with _lock:
        _scripts[number] = list(answers)


def calls_for(number: str, method: str | None = None) -> list[Call]:
    with _lock:
        return [c for c in calls if c.number == number and method in (None, c.method)]


def _next_answer(number: str):
    with _lock:
        answers = _scripts.get(number) or _scripts.get(ANY)
        if not answers:
            return None
        return answers.pop(0) if len(answers) > 1 else answers[0]


class LocmemBackend(BaseBackend):
    """Record the call, then answer from the script (complete in full by default)."""

    def __init__(self, *, name: str, delay: float = 0, secret: str = "", **options):
        super().__init__(name=name, delay=delay, secret=secret, **options)
        self.delay = float(delay)
        self.secret = secret

    def execute(self, order) -> FulfilmentResult:
        """Record and answer."""
        return self._answer("execute", order)

    def poll(self, order) -> FulfilmentResult:
        """Record and answer (scripts say ACCEPTED for "not yet")."""
        return self._answer("poll", order)

    def _answer(self, method: str, order) -> FulfilmentResult:
        with _lock:
            calls.append(
                Call(
                    backend=self.name,
                    method=method,
                    number=order.number,
                    target=order.target,
                    quantity=order.quantity,
                    supplier_reference=order.supplier_reference,
                )
            )
        if self.delay:
            time.sleep(self.delay)
        answer = _next_answer(order.number)
        if answer is None:
            return FulfilmentResult(
                outcome=Outcome.COMPLETED,
                delivered_quantity=order.quantity,
                supplier_reference=f"LOC-{order.number}",
            )
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(order)
        return answer
