"""A background job: long work (imports, exports) that runs in the agent process.

A job is claimed with a lease like an order (``jobs.runner``): the worker holding it extends
the lease while it runs; a job whose lease ran out (its worker died) is taken over by another
worker and started again. It completes once: the final state is written by a compare-and-set
on (state=running, lease_owner=this worker), inside the same transaction as the job's writes.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (State.DONE, State.FAILED, State.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    input_file = models.CharField(_("input file"), max_length=255, blank=True)
    output_file = models.CharField(_("output file"), max_length=255, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in total"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # A follow-up of another job (an import's write after its check), at most one per key.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "lease_expires_at"], name="jobs_due"),
            models.Index(fields=["owner", "-id"], name="jobs_by_owner"),
            models.Index(fields=["finished_at"], name="jobs_finished"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title or self.kind}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    def visible_to(self, user) -> bool:
        """Only the owner and superusers see a job, its progress and its files."""
        return bool(user.is_active and (user.is_superuser or user.pk == self.owner_id))
