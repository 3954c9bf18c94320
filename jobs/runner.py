"""The job runner: an agent side task (``settings.AGENT_SIDE_TASKS``) that claims and runs jobs.

Claiming is the order queue's: due jobs (queued, or running with an expired lease) are locked
with ``SELECT … FOR UPDATE SKIP LOCKED`` so two workers never take the same one, and the
claim sets ``lease_owner`` and ``lease_expires_at``. While a job runs, a heartbeat thread on its
own connection extends the lease and publishes progress (so the progress bar moves even while
the job's own transaction is open), and notices cancellation and a lost lease. A worker that
dies (SIGKILL, a crash, a deploy) stops extending the lease; when it expires another worker
takes the job over and runs it again from the start — a job's writes sit in one transaction
that also moves the job to ``done`` by compare-and-set on (running, this worker), so a job is
completed exactly once.
"""

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jobs import conf
from jobs.models import Job
from jobs.registry import JobFailed, get_kind
from jobs.storage import save_job_file

logger = logging.getLogger(__name__)

UNKNOWN_KIND = _("This kind of job is not known to this server.")
GAVE_UP = _(
    "The job was interrupted too often (its worker stopped %(count)s times); it was given up."
)
UNEXPECTED = _("The job failed unexpectedly; nothing was written. The error was logged.")
CANDIDATES = 5


class Cancelled(Exception):
    pass


class LeaseLost(Exception):
    pass


class Stopping(Exception):
    pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


class JobContext:
    """What a running job sees: its row, progress counters, checks, files, completion."""

    def __init__(self, job: Job, worker: str, stopping: threading.Event | None = None):
        self.job = job
        self.worker = worker
        self.stopping = stopping
        self.rows_done = 0
        self.rows_total = job.rows_total
        self.cancelled = False
        self.lost = False
        self.completed = False

    # -- progress ----------------------------------------------------------------------------

    def set_total(self, total: int) -> None:
        self.rows_total = int(total)

    def advance(self, count: int = 1) -> None:
        self.rows_done += count

    def check(self) -> None:
        if self.lost:
            raise LeaseLost
        if self.cancelled:
            raise Cancelled
        if self.stopping is not None and self.stopping.is_set():
            raise Stopping

    # -- files -------------------------------------------------------------------------------

    def open_input(self):
        from jobs.storage import job_storage

        return job_storage().open(self.job.input_file, "rb")

    def save_output(self, name: str, content) -> str:
        path = save_job_file(owner_id=self.job.owner_id, name=name, content=content)
        self.job.output_file = path
        return path

    # -- completion --------------------------------------------------------------------------

    def complete(
        self, result: dict, *, state: str = Job.State.DONE, error="", checked: bool = True
    ) -> None:
        """Compare-and-set the final state. Inside the caller's transaction when it writes."""
        if checked:
            self.check()
        updated = Job.objects.filter(
            pk=self.job.pk, state=Job.State.RUNNING, lease_owner=self.worker
        ).update(
            state=state,
            result=result,
            error=str(error),
            output_file=self.job.output_file,
            rows_done=self.rows_done if state == Job.State.DONE else F("rows_done"),
            rows_total=self.rows_total,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if updated != 1:
            raise LeaseLost
        self.completed = True


class Heartbeat(threading.Thread):
    """Extends the lease and publishes progress every JOBS_HEARTBEAT_SECONDS on its own
    connection; notices a cancel request and a lost lease."""

    def __init__(self, ctx: JobContext):
        super().__init__(name=f"job-{ctx.job.pk}-heartbeat", daemon=True)
        self.ctx = ctx
        self.done = threading.Event()

    def run(self):
        try:
            while not self.done.wait(conf.heartbeat_seconds()):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        ctx = self.ctx
        now = timezone.now()
        try:
            updated = Job.objects.filter(
                pk=ctx.job.pk, state=Job.State.RUNNING, lease_owner=ctx.worker
            ).update(
                lease_expires_at=now + timedelta(seconds=conf.lease_seconds()),
                rows_done=ctx.rows_done,
                rows_total=ctx.rows_total,
                progress_at=now,
            )
            if updated != 1 and not self.done.is_set() and not ctx.completed:
                ctx.lost = True
            elif Job.objects.filter(pk=ctx.job.pk, cancel_requested=True).exists():
                ctx.cancelled = True
        except DatabaseError:  # SQLite busy under the job's write transaction: try again
            logger.debug("job %s heartbeat skipped", ctx.job.pk, exc_info=True)


def _locking(queryset):
    features = connections[queryset.db].features
    if not features.has_select_for_update:
        return queryset
    return queryset.select_for_update(skip_locked=features.has_select_for_update_skip_locked)


def job_claim(*, worker: str) -> Job | None:
    """Take the oldest due job: queued, or running under a lease that ran out."""
    now = timezone.now()
    due = Q(state=Job.State.QUEUED) | Q(state=Job.State.RUNNING, lease_expires_at__lt=now)
    with transaction.atomic():
        candidates = list(
            Job.objects.filter(due).order_by("id").values_list("pk", flat=True)[:CANDIDATES]
        )
        if not candidates:
            return None
        for job in _locking(Job.objects.filter(pk__in=candidates).order_by("id")):
            # Re-checked under the lock, and written by compare-and-set (SQLite has no lock).
            still_due = Job.objects.filter(pk=job.pk).filter(due)
            if job.attempts >= conf.max_attempts():
                still_due.update(
                    state=Job.State.FAILED,
                    error=str(GAVE_UP % {"count": job.attempts}),
                    finished_at=now,
                    lease_expires_at=None,
                )
                continue
            claimed = still_due.filter(attempts=job.attempts).update(
                state=Job.State.RUNNING,
                lease_owner=worker,
                lease_expires_at=now + timedelta(seconds=conf.lease_seconds()),
                attempts=F("attempts") + 1,
                started_at=now,
                progress_at=now,
                rows_done=0,
            )
            if claimed:
                job.refresh_from_db()
                return job
    return None


def _finish(ctx: JobContext, *, state: str, error="", result=None) -> None:
    try:
        with transaction.atomic():
            ctx.complete(result or {}, state=state, error=error, checked=False)
    except LeaseLost:
        logger.warning("job %s: lease lost, another worker has it", ctx.job.pk)


def run_job(job: Job, *, worker: str, stopping: threading.Event | None = None) -> None:
    """Run one claimed job to its end (or until its lease is lost or the agent stops)."""
    ctx = JobContext(job, worker, stopping)
    heartbeat = Heartbeat(ctx)
    heartbeat.start()
    try:
        kind = get_kind(job.kind)
        if kind is None:
            _finish(ctx, state=Job.State.FAILED, error=UNKNOWN_KIND)
            return
        try:
            result = kind.run(ctx)
            if not ctx.completed:
                with transaction.atomic():
                    ctx.complete(result or {})
        except Cancelled:
            from jobs.services import CANCELLED_BY_OWNER

            _finish(ctx, state=Job.State.CANCELLED, error=CANCELLED_BY_OWNER)
        except LeaseLost:
            logger.warning("job %s: lease lost, another worker takes it over", job.pk)
        except Stopping:
            # Hand it back now rather than after the lease: the next agent starts it again.
            Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, lease_owner=worker).update(
                state=Job.State.QUEUED, lease_owner="", lease_expires_at=None
            )
        except JobFailed as exc:
            _finish(ctx, state=Job.State.FAILED, error=exc.message, result=exc.result)
        except Exception:
            logger.exception("job %s (%s) failed", job.pk, job.kind)
            _finish(ctx, state=Job.State.FAILED, error=UNEXPECTED)
    finally:
        heartbeat.done.set()
        heartbeat.join(timeout=10)


def run_next(*, worker: str | None = None, stopping: threading.Event | None = None) -> Job | None:
    """Claim and run one due job; None when there was none."""
    worker = worker or worker_name()
    job = job_claim(worker=worker)
    if job is not None:
        run_job(job, worker=worker, stopping=stopping)
    return job


def run_jobs(stopping: threading.Event) -> None:
    """The agent side task: run due jobs until ``stopping``; clean up old ones hourly."""
    from jobs.services import jobs_cleanup

    worker = worker_name()
    last_cleanup = 0.0
    while not stopping.is_set():
        try:
            if time.monotonic() - last_cleanup > 3600:
                jobs_cleanup()
                last_cleanup = time.monotonic()
            job = run_next(worker=worker, stopping=stopping)
        except DatabaseError:
            logger.exception("job runner: database error; retrying")
            connection.close()
            job = None
        if job is None:
            stopping.wait(conf.poll_seconds())
