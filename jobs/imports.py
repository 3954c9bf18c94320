"""Imports of any size, the same path for every file (customers today).

upload (``ImportForm`` + ``import_start``: size, type, encoding, emptiness and columns are
checked at once, in the request) → job ``import.check`` parses and checks every row without
writing and lists errors by row and column → the owner confirms (``import_confirm``, once per
check: a second confirm returns the same job) → job ``import.write`` writes every row in one
transaction together with the job's completion, or nothing.

A resource is a django-import-export ``Resource`` named by dotted path; it may offer
``unknown_headers(headers) -> list`` and ``EXPECTED_HEADERS`` for the column check, and
``import_fast(dataset, dry_run, progress, errors_kept, file_checked)`` for a bulk path that
bypasses the library's per-row machinery (``customers.resources.CustomerResource`` does).
"""

import csv
import hashlib
import io

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from core.uploads import NotGbk, NotUtf8, csv_text
from jobs import conf
from jobs.models import Job
from jobs.registry import JobFailed, register_kind
from jobs.services import job_create
from jobs.storage import job_storage, save_job_file

ERRORS_KEPT = 1000  # errors listed in a check's result; the counts cover every row

TOO_BIG = _("The file is %(size)s; the limit is %(limit)s. Split it and import the parts.")
WRONG_TYPE = _("Upload a CSV or XLSX file.")
NOT_UTF8 = _(
    "The file is not UTF-8 (it looks like %(encoding)s). Save it as “CSV UTF-8” and upload "
    "it again, or, if it really is GBK, choose GBK below."
)
NOT_GBK = _("The file is not GBK either. Save it as “CSV UTF-8” and upload it again.")
EMPTY = _("The file is empty: it has no rows below the header.")
NO_HEADER = _("The file has no header row. The first row must name the columns: %(expected)s.")
WRONG_COLUMNS = _("Unknown columns: %(unknown)s. The columns are: %(expected)s.")
BROKEN = _("The file could not be read as %(format)s: is it damaged?")
FILE_CHANGED = _("The checked file is gone or has changed; upload it again.")
NOT_CHECKED = _("Only a checked file without errors can be imported.")
ROWS_REFUSED = _(
    "%(count)s rows are invalid; nothing was written. Fix them and upload the file again."
)
CHECK_TITLE = _("Check %(name)s")
WRITE_TITLE = _("Import %(name)s")

ENCODINGS = [
    ("utf-8", _("UTF-8 (recommended)")),
    ("gbk", _("GBK (what older Chinese Excel saves as CSV)")),
]


class ImportRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"),
        choices=ENCODINGS,
        initial="utf-8",
        widget=forms.RadioSelect,
    )


def decode_csv(data: bytes, encoding: str) -> str:
    """The text of a CSV upload; refuses non-UTF-8 unless GBK was chosen, naming what it saw."""
    try:
        return csv_text(data, encoding)
    except NotGbk:
        raise ImportRefused(NOT_GBK) from None
    except NotUtf8 as exc:
        raise ImportRefused(NOT_UTF8 % {"encoding": exc.detected()}) from None


def _check_headers(resource_class, headers: list[str]) -> None:
    headers = [str(h or "").strip() for h in headers]
    expected = ", ".join(getattr(resource_class, "EXPECTED_HEADERS", ()))
    if not any(headers):
        raise ImportRefused(NO_HEADER % {"expected": expected})
    unknown = getattr(resource_class, "unknown_headers", None)
    wrong = unknown(headers) if unknown else []
    if wrong:
        raise ImportRefused(WRONG_COLUMNS % {"unknown": ", ".join(wrong), "expected": expected})


def prepare_upload(upload, *, encoding: str, resource_class) -> tuple[bytes, str]:
    """Check an uploaded file at once (cheap checks only); returns (bytes to store, format).

    CSV is stored re-encoded as UTF-8, so jobs read one encoding.
    """
    limit = conf.import_max_bytes()
    if upload.size > limit:
        raise ImportRefused(
            TOO_BIG % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    name = (upload.name or "").lower()
    data = upload.read()
    if name.endswith(".csv"):
        text = decode_csv(data, encoding)
        reader = csv.reader(io.StringIO(text))
        headers = next(reader, None)
        _check_headers(resource_class, headers or [])
        if not any(any(cell.strip() for cell in row) for row in reader):
            raise ImportRefused(EMPTY)
        return text.encode("utf-8"), "csv"
    if name.endswith(".xlsx"):
        try:
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = book.worksheets[0].iter_rows(values_only=True)
            headers = next(rows, None)
            _check_headers(resource_class, list(headers or []))
            has_rows = any(any(c not in (None, "") for c in row) for row in rows)
            book.close()
        except ImportRefused:
            raise
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
            raise ImportRefused(BROKEN % {"format": "XLSX"}) from None
        if not has_rows:
            raise ImportRefused(EMPTY)
        return data, "xlsx"
    raise ImportRefused(WRONG_TYPE)


def import_start(*, owner, upload, encoding: str, resource: str, name, permission: str = "") -> Job:
    """Store the upload and queue its check; raises ImportRefused with the reason.

    ``permission`` (e.g. ``customers.import_customer``) is checked again at the confirm.
    """
    resource_class = import_string(resource)
    data, fmt = prepare_upload(upload, encoding=encoding, resource_class=resource_class)
    path = save_job_file(owner_id=owner.pk, name=f"import.{fmt}", content=io.BytesIO(data))
    job, _created = job_create(
        owner=owner,
        kind="import.check",
        title=CHECK_TITLE % {"name": name},
        params={
            "resource": resource,
            "format": fmt,
            "sha256": hashlib.sha256(data).hexdigest(),
            "name": str(name),
            "permission": permission,
        },
        input_file=path,
    )
    return job


def import_confirm(*, check: Job, user=None) -> Job:
    """Queue the write of a checked file; confirming twice returns the same write job.

    ``user`` (who confirms) must still hold the import permission the upload needed.
    """
    permission = check.params.get("permission")
    if user is not None and permission and not user.has_perm(permission):
        raise PermissionDenied
    if check.kind != "import.check" or check.state != Job.State.DONE or check.result.get("invalid"):
        raise ImportRefused(NOT_CHECKED)
    job, _created = job_create(
        owner=check.owner,
        kind="import.write",
        title=WRITE_TITLE % {"name": check.params.get("name", "")},
        params={**check.params, "check_job": check.pk},
        input_file=check.input_file,
        rows_total=check.rows_total,
        dedupe_key=f"import.write:{check.pk}",
    )
    return job


# -- the jobs ---------------------------------------------------------------------------------


def _dataset(ctx):
    with ctx.open_input() as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != ctx.job.params.get("sha256"):
        raise JobFailed(FILE_CHANGED)
    if ctx.job.params["format"] == "csv":
        return CSV().create_dataset(data.decode("utf-8"))
    return XLSX().create_dataset(data)


def _progress(ctx):
    def advance(count: int = 1) -> None:
        ctx.advance(count)
        ctx.check()

    return advance


def _run_import(ctx, *, dry_run: bool) -> dict:
    resource = import_string(ctx.job.params["resource"])()
    dataset = _dataset(ctx)  # the checked bytes, or FILE_CHANGED
    ctx.set_total(len(dataset))
    fast = getattr(resource, "import_fast", None)
    if fast is not None:
        return fast(
            dataset,
            dry_run=dry_run,
            progress=_progress(ctx),
            errors_kept=ERRORS_KEPT,
            # The write job runs only on a file whose check passed, and _dataset has just
            # verified these are the same bytes: checks of the file alone need not run again.
            file_checked=not dry_run,
        )
    return _library_import(resource, dataset, ctx, dry_run=dry_run)


def _library_import(resource, dataset, ctx, *, dry_run: bool) -> dict:
    """Through django-import-export's own import_data (resources without ``import_fast``)."""
    after = resource.after_import_row
    advance = _progress(ctx)

    def counted(row, row_result, **kwargs):
        after(row, row_result, **kwargs)
        advance()

    resource.after_import_row = counted
    result = resource.import_data(dataset, dry_run=dry_run, raise_errors=False)
    if result.has_errors():
        raise JobFailed(str(result.base_errors[0].error) if result.base_errors else BROKEN)
    errors = []
    for row in result.invalid_rows[:ERRORS_KEPT]:
        for column, messages in row.field_specific_errors.items():
            errors.extend(
                {"row": row.number, "column": column, "message": str(m)} for m in messages
            )
        errors.extend(
            {"row": row.number, "column": "", "message": str(m)}
            for m in row.non_field_specific_errors
        )
    return {
        "rows": result.total_rows,
        "new": result.totals.get("new", 0),
        "update": result.totals.get("update", 0),
        "invalid": len(result.invalid_rows),
        "errors": errors,
    }


def run_check(ctx) -> dict:
    return _run_import(ctx, dry_run=True)


def run_write(ctx) -> dict:
    with transaction.atomic():
        result = _run_import(ctx, dry_run=False)
        if result.get("invalid"):
            # Something changed since the check (a concurrent edit): nothing is written.
            raise JobFailed(ROWS_REFUSED % {"count": result["invalid"]}, result=result)
        ctx.complete(result)
    # The uploaded file is no longer needed once written.
    job_storage().delete(ctx.job.input_file)
    return result


register_kind("import.check", run_check, label=_("Import check"))
register_kind("import.write", run_write, label=_("Import"))
