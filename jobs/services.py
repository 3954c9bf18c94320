"""Writes on jobs: create, cancel, clean up. The runner's claim and completion are in runner.py."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jobs import conf
from jobs.models import Job
from jobs.storage import delete_job_file

CANCELLED_BY_OWNER = _("Cancelled.")


def job_create(
    *,
    owner,
    kind: str,
    title: str = "",
    params: dict | None = None,
    input_file: str = "",
    rows_total: int = 0,
    dedupe_key: str | None = None,
) -> tuple[Job, bool]:
    """Queue a job; with ``dedupe_key``, at most one job ever exists per key.

    Returns (job, created): asking twice for the same key (a confirm clicked twice, in two
    tabs) returns the first job instead of a second one.
    """
    if dedupe_key:
        existing = Job.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                owner=owner,
                kind=kind,
                title=str(title)[:200],
                params=params or {},
                input_file=input_file,
                rows_total=rows_total,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if not dedupe_key:
            raise
        return Job.objects.get(dedupe_key=dedupe_key), False
    return job, True


def job_cancel(*, job: Job) -> Job:
    """A queued job is cancelled at once; a running one at its worker's next check."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
        state=Job.State.CANCELLED, finished_at=now, error=str(CANCELLED_BY_OWNER)
    )
    Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def jobs_cleanup(*, now=None) -> int:
    """Delete finished jobs older than JOBS_RETENTION_DAYS, and their files."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.retention_days())
    old = Job.objects.filter(state__in=Job.FINISHED, finished_at__lt=cutoff)
    count = 0
    for job in old.iterator(chunk_size=200):
        delete_job_file(job.output_file)
        delete_job_file(job.input_file)
        Job.objects.filter(pk=job.pk).delete()
        count += 1
    return count
