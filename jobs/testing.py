"""Test helpers: run the job runner (the agent's side task) on a thread during a test."""

import contextlib
import threading

from django.db import connections


@contextlib.contextmanager
def running_jobs(settings=None, poll: float = 0.2):
    """Run ``jobs.runner.run_jobs`` on a thread against the test database until the block ends
    (browser tests: the live server queues jobs, this thread plays the agent)."""
    from jobs.runner import run_jobs

    if settings is not None:
        settings.JOBS_POLL_SECONDS = poll
    stopping = threading.Event()

    def run():
        try:
            run_jobs(stopping)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="test-job-runner", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stopping.set()
        thread.join(timeout=30)
