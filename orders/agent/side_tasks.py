"""Background duties that ride along in the agent process, each on its own thread.

Every deployment already runs the agent (``make run`` starts one), so work that must happen
outside a web request but needs no service of its own — webhook deliveries, bulk import and
export jobs — runs here instead of in a new always-on daemon. ``settings.AGENT_SIDE_TASKS`` lists
dotted paths of callables ``task(stopping: threading.Event) -> None``; each loops until
``stopping`` is set and must survive database and network errors itself (log, wait, retry).
A side task runs on its own thread so a slow receiver or a big export never delays claiming
and finishing orders. ``run_agent --once`` (cron) runs no side tasks.
"""

import logging
import threading

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _run(path: str, task, stopping: threading.Event) -> None:
    try:
        while not stopping.is_set():
            try:
                task(stopping)
                return
            except Exception:
                logger.exception("agent side task %s failed; restarting in 5 s", path)
                stopping.wait(5)
    finally:
        connections.close_all()


def start_side_tasks(stopping: threading.Event, *, name: str) -> list[threading.Thread]:
    """Start one daemon thread per configured side task; returns them for joining."""
    threads = []
    for path in getattr(settings, "AGENT_SIDE_TASKS", ()):
        task = import_string(path)
        thread = threading.Thread(
            target=_run, args=(path, task, stopping), name=f"{name}-{path}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads
