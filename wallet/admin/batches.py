"""Batch recharge (批量充值) in the admin: upload a file, its preview, confirm, approve, reject.

Every page and button asks ``wallet.batch`` (services) and shows its refusals as messages;
state changes are POSTs with CSRF. Finance (``wallet.recharge_account``) uploads and confirms;
a batch above ``WALLET_BATCH_APPROVAL_THRESHOLD`` waits for an administrator
(``wallet.approve_rechargebatch``) other than the uploader. Each step is a LogEntry.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.money import format_yuan
from customers.selectors import customer_sees_all
from wallet import permissions
from wallet.batch import (
    APPROVE,
    BatchAlreadyUploaded,
    BatchError,
    batch_apply,
    batch_approve,
    batch_confirm,
    batch_needs_approval,
    batch_preview,
    batch_reject,
)
from wallet.batch_files import (
    COLUMN_TITLES,
    COLUMNS,
    ENCODINGS,
    FILE_TOO_BIG,
    batch_template_csv,
    batch_template_xlsx,
)
from wallet.batch_rows import row_messages
from wallet.exceptions import WalletError
from wallet.models import Entry, RechargeBatch

# The preview page lists at most this many rows and errors (every row was checked).
PREVIEW_ROWS = 1000

PREVIEWED = _(
    "Batch #%(id)s previewed: %(rows)s rows, total %(total)s, %(errors)s rows with errors."
)
SENT_FOR_APPROVAL = _(
    "Batch #%(id)s (total %(total)s) is above %(threshold)s: it waits for an administrator's "
    "approval before it recharges."
)
APPLIED = _("Batch #%(id)s applied: %(created)s recharges written, total %(total)s.")
APPLIED_WITH_REPLAYS = _(
    "Batch #%(id)s applied: %(created)s recharges written; %(replayed)s rows were already "
    "recorded and were not written again."
)
QUEUED = _(
    "Batch #%(id)s (%(rows)s rows, total %(total)s) is being applied in the background; "
    "this page shows the result when it is done."
)
APPROVED = _("Batch #%(id)s approved by %(user)s.")
REJECTED = _("Batch #%(id)s rejected.")
LOG_REJECTED = _("Batch rejected: %(reason)s")


class BatchUploadForm(forms.Form):
    """The file and, for a CSV not saved as UTF-8, its encoding."""

    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv", "class": "form-control"}
        ),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"),
        choices=list(ENCODINGS.items()),
        initial="auto",
        widget=forms.Select(attrs={"class": "form-control"}),
        help_text=_("XLSX files need no encoding. Excel on Chinese Windows saves CSV as GBK."),
    )

    def clean_file(self):
        """Refuse a file over the size limit before reading it."""
        upload = self.cleaned_data["file"]
        limit = settings.WALLET_BATCH_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                FILE_TOO_BIG % {"size": (upload.size + 1023) // 1024, "max": limit // 1024}
            )
        return upload


@admin.register(RechargeBatch)
class RechargeBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "file_name",
        "uploaded_by",
        "row_count",
        "error_count",
        "total_display",
        "status",
        "approved_by",
        "applied_at",
    ]
    list_display_links = ["id", "file_name"]
    list_filter = ["status"]
    list_select_related = ["uploaded_by", "approved_by"]
    search_fields = ["file_name", "file_hash"]
    ordering = ["-created_at", "-id"]
    actions = None

    # -- permissions -------------------------------------------------------------------------

    def _may_see(self, request) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (
                user.has_perm(permissions.RECHARGE)
                or user.has_perm(APPROVE)
                or user.has_perm("wallet.view_rechargebatch")
            )
        )

    def get_queryset(self, request):
        """Everyone's batches for those who see every customer or approve; else their own."""
        batches = super().get_queryset(request)
        user = request.user
        if customer_sees_all(user) or user.has_perm(APPROVE):
            return batches
        return batches.filter(uploaded_by=user)

    def has_module_permission(self, request):
        """Finance and administrators see the batches in the menu."""
        return self._may_see(request)

    def has_view_permission(self, request, obj=None):
        """Those who may recharge or approve, and those given the view permission."""
        return self._may_see(request)

    def has_add_permission(self, request):
        """Batches come from the upload page, never the add form."""
        return False

    def has_change_permission(self, request, obj=None):
        """Changed only by the services' buttons."""
        return False

    def has_delete_permission(self, request, obj=None):
        """A batch is a record of what was asked and done: never deleted."""
        return False

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, obj):
        return format_yuan(obj.total)

    # -- urls --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        name = "wallet_rechargebatch"
        return [
            path("upload/", wrap(self.upload_view), name=f"{name}_upload"),
            path("template.<str:fmt>", wrap(self.template_view), name=f"{name}_template"),
            *(
                path(
                    f"<path:object_id>/{step}/",
                    wrap(require_POST(self.step_view)),
                    {"step": step},
                    name=f"{name}_{step}",
                )
                for step in ("confirm", "approve", "apply", "reject")
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_upload": request.user.has_perm(permissions.RECHARGE),
        }
        return super().changelist_view(request, extra_context)

    # -- upload ------------------------------------------------------------------------------

    def template_view(self, request, fmt: str):
        """The template file, headers in the current language."""
        if not request.user.has_perm(permissions.RECHARGE):
            raise PermissionDenied
        if fmt == "csv":
            body, content_type = batch_template_csv(), "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = batch_template_xlsx()
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise Http404
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="batch-recharge-template.{fmt}"'
        return response

    def upload_view(self, request):
        """GET: the form and the columns; POST: read, check, record, and show the preview."""
        if not request.user.has_perm(permissions.RECHARGE):
            raise PermissionDenied
        form = BatchUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = batch_preview(
                    data=upload.read(),
                    file_name=upload.name,
                    uploaded_by=request.user,
                    encoding=form.cleaned_data["encoding"],
                )
            except BatchAlreadyUploaded as exc:
                self.message_user(request, exc.message, messages.WARNING)
                return self._back(exc.batch.pk)
            except WalletError as exc:  # the file (BatchFileError) or the uploader (BatchError)
                form.add_error("file", exc.message)
            else:
                summary = PREVIEWED % {
                    "id": batch.pk,
                    "rows": batch.row_count,
                    "total": format_yuan(batch.total),
                    "errors": batch.error_count,
                }
                self.log_addition(request, batch, str(summary))
                return self._back(batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Batch recharge from a file"),
            "opts": self.opts,
            "form": form,
            "columns": [(c, COLUMN_TITLES[c]) for c in COLUMNS],
            "methods": Entry.PaymentMethod.choices,
            "max_rows": settings.WALLET_BATCH_MAX_ROWS,
            "max_kb": settings.WALLET_BATCH_MAX_BYTES // 1024,
            "threshold": format_yuan(settings.WALLET_BATCH_APPROVAL_THRESHOLD),
        }
        return TemplateResponse(request, "admin/wallet/rechargebatch/upload.html", context)

    # -- one batch: preview, buttons, result -------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The batch: summary, errors by row and column, rows with balances, and the buttons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = self.get_object(request, unquote(object_id))  # scoped by get_queryset
        if batch is None:
            raise Http404
        user = request.user
        status = RechargeBatch.Status
        entries = batch.result.get("entries", {}) if isinstance(batch.result, dict) else {}
        rows = []
        errors = []
        for row in batch.rows:
            shown = row_messages(row)
            if shown and len(errors) < PREVIEW_ROWS:
                errors.extend((row["row"], column, message) for column, message in shown)
            if len(rows) < PREVIEW_ROWS:
                rows.append(self._shown_row(row, shown, entries.get(str(row["row"]))))
        own = user.pk in (batch.uploaded_by_id, batch.confirmed_by_id)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Batch recharge #%(id)s") % {"id": batch.pk},
            "opts": self.opts,
            "original": batch,
            "batch": batch,
            "rows": rows,
            "errors": errors[:PREVIEW_ROWS],
            "shown_all": len(rows) == batch.row_count,
            "needs_approval": batch_needs_approval(batch),
            "threshold": format_yuan(settings.WALLET_BATCH_APPROVAL_THRESHOLD),
            "methods": dict(Entry.PaymentMethod.choices),
            "apply_error": (batch.result or {}).get("error"),
            "can_confirm": batch.status == status.PREVIEWED
            and not batch.error_count
            and user.has_perm(permissions.RECHARGE),
            "can_approve": batch.status == status.AWAITING_APPROVAL
            and user.has_perm(APPROVE)
            and not own,
            "approve_own": batch.status == status.AWAITING_APPROVAL and own,
            "can_apply": batch.status == status.APPROVED
            and (user.has_perm(APPROVE) or user.has_perm(permissions.RECHARGE)),
            "can_reject": batch.status
            in (status.PREVIEWED, status.AWAITING_APPROVAL, status.APPROVED)
            and (
                user.has_perm(APPROVE)
                or (batch.uploaded_by_id == user.pk and user.has_perm(permissions.RECHARGE))
            ),
            "has_permission": True,
        }
        return TemplateResponse(request, "admin/wallet/rechargebatch/detail.html", context)

    @staticmethod
    def _shown_row(row: dict, shown: list, entry: list | None) -> dict:
        """One row as the table shows it: money formatted, the method's label, the entry."""
        bad = {column for column, _code, _params in row["errors"]}
        amount = row["amount"]
        method = row["method"]
        return {
            **row,
            "messages": shown,
            "bad": bad,
            "amount_shown": amount if "amount" in bad else format_yuan(amount),
            "method_shown": Entry.PaymentMethod(method).label
            if method in Entry.PaymentMethod.values
            else method,
            "balance_shown": format_yuan(row.get("balance")),
            "after_shown": format_yuan(entry[1] if entry else row.get("after")),
            "entry_id": entry[0] if entry else row.get("recorded"),
            "replayed": bool(entry and entry[2]) or bool(row.get("recorded")),
        }

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:wallet_rechargebatch_change", args=[pk]))

    def step_view(self, request, object_id, step: str):
        """One POSTed button: confirm, approve, apply (again) or reject; then the batch page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = self.get_object(request, unquote(object_id))  # scoped by get_queryset
        if batch is None:
            raise Http404
        try:
            if step == "reject":
                reason = request.POST.get("reason", "")
                batch = batch_reject(batch_id=batch.pk, actor=request.user, reason=reason)
                self.log_change(request, batch, str(LOG_REJECTED % {"reason": reason or "—"}))
                self.message_user(request, REJECTED % {"id": batch.pk}, messages.SUCCESS)
                return self._back(batch.pk)
            if step == "confirm":
                batch = batch_confirm(batch_id=batch.pk, actor=request.user)
            elif step == "approve":
                try:
                    batch = batch_approve(batch_id=batch.pk, actor=request.user)
                finally:
                    self._log_approval(request, batch.pk)
            else:
                batch = batch_apply(batch_id=batch.pk, actor=request.user)
        except BatchError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(batch.pk)
        self._report(request, batch)
        return self._back(batch.pk)

    def _log_approval(self, request, pk: int) -> None:
        """The approval is recorded even when applying it then failed."""
        batch = RechargeBatch.objects.get(pk=pk)
        if batch.approved_by_id == request.user.pk:
            message = APPROVED % {"id": pk, "user": request.user.get_username()}
            self.log_change(request, batch, str(message))

    def _report(self, request, batch: RechargeBatch) -> None:
        """The message and the log line of a confirm, approval or apply that went through."""
        total = format_yuan(batch.total)
        if batch.status == RechargeBatch.Status.QUEUED:
            message = QUEUED % {"id": batch.pk, "rows": batch.row_count, "total": total}
            self.log_change(request, batch, str(message))
            self.message_user(request, message, messages.INFO)
            return
        if batch.status == RechargeBatch.Status.AWAITING_APPROVAL:
            message = SENT_FOR_APPROVAL % {
                "id": batch.pk,
                "total": total,
                "threshold": format_yuan(settings.WALLET_BATCH_APPROVAL_THRESHOLD),
            }
            self.log_change(request, batch, str(message))
            self.message_user(request, message, messages.INFO)
            return
        result = batch.result
        params = {"id": batch.pk, "total": total, **result}
        template = APPLIED_WITH_REPLAYS if result.get("replayed") else APPLIED
        self.log_change(request, batch, str(template % params))
        self.message_user(request, template % params, messages.SUCCESS)
