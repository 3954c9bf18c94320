"""Job kinds: a name → the function that runs it. Apps register theirs in ``AppConfig.ready``.

``run(ctx: jobs.runner.JobContext) -> dict`` returns the job's result (JSON). It reports
progress with ``ctx.set_total`` / ``ctx.advance``, calls ``ctx.check()`` now and then (raises
when the job was cancelled, its lease lost or the agent is stopping), stores a file with
``ctx.save_output``, and raises ``JobFailed(message)`` for an expected failure the owner
should read. A job that writes must call ``ctx.complete(result)`` inside its own transaction
(see ``jobs.imports``): then its writes and its completion commit together, or neither does.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[[Any], dict]
    label: Any = ""


_KINDS: dict[str, Kind] = {}


def register_kind(name: str, run: Callable[[Any], dict], *, label: Any = "") -> None:
    _KINDS[name] = Kind(name=name, run=run, label=label or name)


def get_kind(name: str) -> Kind | None:
    return _KINDS.get(name)


class JobFailed(Exception):
    """An expected failure, with a message for the job's owner (already translated or lazy)."""

    def __init__(self, message, *, result: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.result = result or {}
