"""Ledger export as CSV (streamed) or XLSX (written row by row to a temporary file).

Rows are read in keyset batches (``id < last id``), never as one result set: MySQL drivers
buffer a whole result in memory, so ``.iterator()`` alone would not keep a large export small.
Every text cell passes ``core.exports.escape_formula``; amounts stay numbers.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import escape_formula
from wallet.models import Entry

BATCH = 2000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

FIELDS = (
    "id",
    "created_at",
    "account__customer__user__username",
    "account__customer__name",
    "kind",
    "amount",
    "balance_after",
    "order_number",
    "created_by__username",
    "memo",
    "idempotency_key",
    "payment_method",
    "payment_reference",
)


def export_header() -> list[str]:
    """Column titles in the user's language."""
    return [
        _("Entry"),
        _("Time"),
        _("Username"),
        _("Customer"),
        _("Kind"),
        _("Amount"),
        _("Balance after"),
        _("Order number"),
        _("Operator"),
        _("Memo"),
        _("Idempotency key"),
        _("Payment method"),
        _("Payment reference"),
    ]


def export_rows(queryset: QuerySet[Entry], batch: int = BATCH) -> Iterator[list]:
    """The queryset's entries, newest first, as lists of cell values, in bounded batches."""
    kinds = dict(Entry.Kind.choices)
    methods = dict(Entry.PaymentMethod.choices)
    base = queryset.order_by("-id").values_list(*FIELDS)
    # Always a range on the primary key, the first batch too: without it MySQL may drive the
    # join from the accounts and sort the whole ledger before returning 2,000 rows.
    top = Entry.objects.using(queryset.db).order_by("-id").values_list("id", flat=True).first()
    last_id = (top or 0) + 1
    while True:
        rows = list(base.filter(id__lt=last_id)[:batch])
        for row in rows:
            (pk, created, username, name, kind, amount, after, order, operator, memo, key) = row[
                :11
            ]
            method, reference = row[11:]
            yield [
                pk,
                timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S"),
                escape_formula(username or ""),
                escape_formula(name or ""),
                str(kinds.get(kind, kind)),
                amount,
                after,
                escape_formula(order or ""),
                escape_formula(operator or _("System")),
                escape_formula(memo or ""),
                escape_formula(key),
                str(methods.get(method, method or "")),
                escape_formula(reference or ""),
            ]
        if len(rows) < batch:
            return
        last_id = rows[-1][0]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A BOM so Excel opens the UTF-8 file with Chinese text intact.
    yield "\ufeff" + writer.writerow(export_header())
    for row in rows:
        yield writer.writerow(row)


def _filename(extension: str) -> str:
    return f"ledger-{timezone.localtime():%Y%m%d-%H%M%S}.{extension}"


def ledger_csv_response(queryset: QuerySet[Entry]) -> StreamingHttpResponse:
    """A streamed CSV download of the entries."""
    response = StreamingHttpResponse(
        _csv_lines(export_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def ledger_xlsx_response(queryset: QuerySet[Entry]) -> FileResponse:
    """An XLSX download built with openpyxl's write-only workbook (rows go straight to disk)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Ledger"))
    sheet.append(export_header())
    for count, row in enumerate(export_rows(queryset), start=1):
        if count > XLSX_MAX_ROWS:
            break
        sheet.append(row)
    handle = tempfile.TemporaryFile()  # deleted when the response closes it
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def ledger_export_spec():
    """The ledger for ``jobs.exports`` (streamed when small, a background job when big):
    amounts numeric (0.00 in XLSX), order numbers and payment references kept text."""
    from core.exports import IDENT, MONEY, NUMBER, TEXT, ExportSpec

    kinds = [NUMBER, TEXT, TEXT, TEXT, TEXT, MONEY, MONEY, IDENT, TEXT, TEXT, TEXT, TEXT, IDENT]
    return ExportSpec(
        name="ledger",
        sheet=_("Ledger"),
        columns=list(zip(export_header(), kinds, strict=True)),
        rows=export_rows,
    )
