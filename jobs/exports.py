"""Exports of any size from an admin list, with the list's current filters.

``export_start(request, model_admin=…, spec=…, fmt=…)``: up to JOBS_EXPORT_STREAM_ROWS rows
the file is the response itself (CSV streamed, XLSX written to a temporary file); beyond, an
``export`` job writes it in the agent process, with progress, and the job page offers the
download (owner and superusers only). The job rebuilds the queryset the same way the list
does — the admin's changelist with the same query string, as the same user — so scoping and
filters are those the person saw, and it checks the export permission again.
"""

import tempfile

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from core.exports import csv_lines, export_filename, export_response, write_xlsx
from jobs import conf
from jobs.registry import JobFailed, register_kind
from jobs.services import job_create

EXPORT_TITLE = _("Export %(name)s (%(format)s)")
NOT_ALLOWED = _("You may no longer export this list.")


def changelist_queryset(model_admin, request):
    """The rows the list shows for this request (filters, search, scoping), unsliced."""
    changelist = model_admin.get_changelist_instance(request)
    return changelist.get_queryset(request)


def export_start(request, *, model_admin, spec: str, fmt: str, queryset=None, query: str = ""):
    """Stream a small export; queue a job for a big one and show its page."""
    fmt = "xlsx" if fmt == "xlsx" else "csv"
    if queryset is None:
        queryset = changelist_queryset(model_admin, request)
    limit = conf.export_stream_rows()
    built = import_string(spec)()
    if queryset[: limit + 1].count() <= limit:
        return export_response(built, queryset, fmt)
    job, _created = job_create(
        owner=request.user,
        kind="export",
        title=EXPORT_TITLE % {"name": built.sheet, "format": fmt.upper()},
        params={
            "spec": spec,
            "model": model_admin.opts.label,
            "query": query if query else request.GET.urlencode(),
            "format": fmt,
            "filename": export_filename(built, fmt),
            "language": translation.get_language(),
        },
    )
    return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[job.pk]))


def _request_for(owner, query: str) -> HttpRequest:
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.user = owner
    request.META = {"SERVER_NAME": "jobs", "SERVER_PORT": "80"}
    return request


def run_export(ctx) -> dict:
    params = ctx.job.params
    owner = ctx.job.owner
    model_admin = admin.site._registry[apps.get_model(params["model"])]
    request = _request_for(owner, params["query"])
    if not (owner.is_active and owner.is_staff and model_admin.has_export_permission(request)):
        raise JobFailed(NOT_ALLOWED)
    with translation.override(params.get("language")):
        return _write_export(ctx, params, model_admin, request)


def _write_export(ctx, params, model_admin, request) -> dict:
    queryset = changelist_queryset(model_admin, request)
    ctx.set_total(queryset.count())
    spec = import_string(params["spec"])()

    def progress(count: int) -> None:
        ctx.advance(count)
        ctx.check()

    with tempfile.TemporaryFile() as handle:
        if params["format"] == "xlsx":
            rows = write_xlsx(spec, queryset, handle, progress=progress)
        else:
            rows = 0
            for line in csv_lines(spec, queryset, progress=progress):
                handle.write(line.encode("utf-8"))
                rows += 1
            rows -= 1  # the header
        ctx.rows_done = rows
        handle.seek(0)
        ctx.save_output(params["filename"], handle)
    return {"rows": rows, "format": params["format"]}


register_kind("export", run_export, label=_("Export"))


def export_view(request, *, model_admin, spec: str):
    """``…/export/?<the list's filters>``: a choice of format, then the export."""
    from django.core.exceptions import PermissionDenied
    from django.template.response import TemplateResponse

    if not model_admin.has_export_permission(request):
        raise PermissionDenied
    query = request.GET.copy()
    fmt = query.pop("format", [""])[-1]
    request.GET = query
    if fmt in ("csv", "xlsx"):
        return export_start(
            request, model_admin=model_admin, spec=spec, fmt=fmt, query=query.urlencode()
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Export"),
        "opts": model_admin.opts,
        "query": query.urlencode(),
        "stream_rows": conf.export_stream_rows(),
    }
    return TemplateResponse(request, "admin/jobs/export_choice.html", context)
