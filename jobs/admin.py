"""Jobs in the admin: the list (owner: their own; superuser: all), the progress page, its JSON
status (polled by static/jobs/progress.js), cancel, confirm (imports) and the output download.

Every view refuses with 403 anyone but the job's owner or a superuser.
"""

import mimetypes
import posixpath

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jobs.imports import ImportRefused, import_confirm
from jobs.models import Job
from jobs.registry import get_kind
from jobs.services import job_cancel
from jobs.storage import job_storage

NO_OUTPUT = _("This job has no file (any more).")


def job_eta(job: Job) -> int | None:
    """Seconds left, from the rate so far (None before the first progress)."""
    if job.state != Job.State.RUNNING or not job.started_at or not job.rows_total:
        return None
    if job.rows_done <= 0:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    rate = job.rows_done / max(elapsed, 0.001)
    return max(0, round((job.rows_total - job.rows_done) / rate))


def job_percent(job: Job) -> int:
    if job.state == Job.State.DONE:
        return 100
    if not job.rows_total:
        return 0
    return min(99, int(job.rows_done * 100 / job.rows_total))


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "kind_label",
        "owner",
        "state",
        "progress",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["id", "title"]
    list_filter = ["state"]
    list_select_related = ["owner"]
    list_per_page = 50
    show_full_result_count = False

    # -- who sees what -------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(owner=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or obj.visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # -- columns -------------------------------------------------------------------------------

    @admin.display(description=_("kind"))
    def kind_label(self, job: Job):
        kind = get_kind(job.kind)
        return kind.label if kind else job.kind

    @admin.display(description=_("progress"))
    def progress(self, job: Job):
        return f"{job.rows_done:,} / {job.rows_total:,}" if job.rows_total else "—"

    # -- views ---------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/status/", view(self.status_view), name="jobs_job_status"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="jobs_job_cancel"),
            path("<int:pk>/confirm/", view(self.confirm_view), name="jobs_job_confirm"),
            path("<int:pk>/download/", view(self.download_view), name="jobs_job_download"),
            path("<int:pk>/", view(self.job_view), name="jobs_job_page"),
            *super().get_urls(),
        ]

    def _job(self, request, pk) -> Job:
        job = get_object_or_404(Job.objects.select_related("owner"), pk=pk)
        if not (request.user.is_staff and job.visible_to(request.user)):
            raise PermissionDenied
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(object_id)
        except ValueError:
            raise Http404 from None
        return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[pk]))

    def job_view(self, request, pk):
        job = self._job(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.opts,
            "job": job,
            "status": self.status(job),
        }
        return TemplateResponse(request, "admin/jobs/job/progress.html", context)

    def status(self, job: Job) -> dict:
        result = job.result or {}
        can_confirm = (
            job.kind == "import.check"
            and job.state == Job.State.DONE
            and not result.get("invalid")
            and result.get("rows", 0) > 0
        )
        follow_up = Job.objects.filter(dedupe_key=f"import.write:{job.pk}").first()
        return {
            "id": job.pk,
            "kind": job.kind,
            "state": job.state,
            "state_label": str(job.get_state_display()),
            "rows_done": job.rows_total if job.state == Job.State.DONE else job.rows_done,
            "rows_total": job.rows_total,
            "percent": job_percent(job),
            "eta_seconds": job_eta(job),
            "finished": job.is_finished,
            "result": result,
            "error": job.error,
            "download_url": (
                reverse("admin:jobs_job_download", args=[job.pk]) if job.output_file else ""
            ),
            "confirm_url": reverse("admin:jobs_job_confirm", args=[job.pk]) if can_confirm else "",
            "follow_up_url": (
                reverse("admin:jobs_job_page", args=[follow_up.pk]) if follow_up else ""
            ),
            "cancel_url": (
                "" if job.is_finished else reverse("admin:jobs_job_cancel", args=[job.pk])
            ),
        }

    def status_view(self, request, pk):
        job = self._job(request, pk)
        return JsonResponse(self.status(job))

    def cancel_view(self, request, pk):
        return require_POST(self._cancel)(request, pk)

    def _cancel(self, request, pk):
        job = job_cancel(job=self._job(request, pk))
        return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[job.pk]))

    def confirm_view(self, request, pk):
        return require_POST(self._confirm)(request, pk)

    def _confirm(self, request, pk):
        check = self._job(request, pk)
        try:
            write = import_confirm(check=check, user=request.user)
        except ImportRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[check.pk]))
        return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[write.pk]))

    def download_view(self, request, pk):
        job = self._job(request, pk)
        storage = job_storage()
        if not job.output_file or not storage.exists(job.output_file):
            self.message_user(request, NO_OUTPUT, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[job.pk]))
        name = job.params.get("filename") or posixpath.basename(job.output_file).split("-", 1)[-1]
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(
            storage.open(job.output_file, "rb"),
            as_attachment=True,
            filename=name,
            content_type=content_type,
        )
