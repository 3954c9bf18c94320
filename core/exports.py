"""Spreadsheet-safe export helpers."""

# A cell starting with one of these is a formula to Excel/LibreOffice/Sheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Prefix a dangerous string with ``'`` so a spreadsheet shows it as text; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def looks_like_formula(text: str) -> bool:
    """Whether an imported cell would run as a formula in a spreadsheet.

    ``=…`` and ``@…`` always; ``+``/``-`` followed by something other than a digit or a space
    (``+8613800138000`` and ``-5`` are data, ``+cmd|…`` and ``-2+3`` are not… the latter
    starts with a digit and passes, as a spreadsheet would show its value anyway).
    A leading ``'`` (what our exports add) makes any cell text.
    """
    if not text or text[0] == "'":
        return False
    if text[0] in "=@\t\r":
        return True
    return text[0] in "+-" and len(text) > 1 and not (text[1].isdigit() or text[1] == " ")


# -- exports of any size: one description, CSV (streamed) and XLSX (write-only) -------------
#
# Numbers that are identifiers (mobiles, order numbers) must stay text in Excel, which turns
# 13800138000 into 1.38E+10 and drops leading zeros. In CSV they are written with a leading
# tab: plain data that every spreadsheet keeps as text, that no program runs, and that our
# import strips like any surrounding whitespace. ="13800138000" would also work in Excel but
# is a formula — exactly what the formula escaping exists to keep out of exported files, and
# what our own import refuses. In XLSX they are string cells and need no trick.

TEXT, IDENT, MONEY, NUMBER = "text", "ident", "money", "number"
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


class ExportSpec:
    """What an export writes: its file name, its columns (title, kind) and its rows.

    ``rows(queryset)`` yields lists of raw values (str, Decimal, int, None) in column order;
    this module escapes, formats and types them per column kind.
    """

    def __init__(self, *, name: str, columns: list, rows, sheet: str = ""):
        self.name = name
        self.columns = columns
        self.rows = rows
        self.sheet = sheet or name

    def header(self) -> list[str]:
        return [str(title) for title, _kind in self.columns]


def _csv_cell(value, kind):
    if value is None:
        return ""
    if kind == MONEY:
        return f"{value:.2f}"
    if kind == NUMBER:
        return value
    text = escape_formula(str(value))
    if kind == IDENT and text:
        return "\t" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(spec: ExportSpec, queryset, progress=None):
    """The CSV, line by line: UTF-8 with a BOM (Excel then reads the Chinese correctly)."""
    import csv

    writer = csv.writer(_Echo())
    kinds = [kind for _title, kind in spec.columns]
    yield "\ufeff" + writer.writerow([escape_formula(h) for h in spec.header()])
    for count, row in enumerate(spec.rows(queryset), start=1):
        yield writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)])
        if progress is not None and count % 1000 == 0:
            progress(1000)


def write_xlsx(spec: ExportSpec, queryset, handle, progress=None) -> int:
    """Write the XLSX to ``handle`` with openpyxl's write-only workbook (rows go to a temporary
    file as they come, so memory stays flat); money cells numeric with format ``0.00``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(spec.sheet)[:31])
    sheet.append([escape_formula(h) for h in spec.header()])
    kinds = [kind for _title, kind in spec.columns]
    count = 0
    for count, row in enumerate(spec.rows(queryset), start=1):  # noqa: B007
        if count > XLSX_MAX_ROWS:
            count -= 1
            break
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            if value is None:
                cells.append(None)
            elif kind == MONEY:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "0.00"
                cells.append(cell)
            elif kind == NUMBER:
                cells.append(value)
            else:
                cells.append(escape_formula(str(value)))
        sheet.append(cells)
        if progress is not None and count % 1000 == 0:
            progress(1000)
    workbook.save(handle)
    return count


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_filename(spec: ExportSpec, extension: str) -> str:
    from django.utils import timezone

    return f"{spec.name}-{timezone.localtime():%Y%m%d-%H%M%S}.{extension}"


def export_response(spec: ExportSpec, queryset, fmt: str):
    """A direct download: CSV streamed line by line, XLSX from a temporary file."""
    import tempfile

    from django.http import FileResponse, StreamingHttpResponse

    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_lines(spec, queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(spec, "csv")}"'
        return response
    handle = tempfile.TemporaryFile()  # deleted when the response closes it
    write_xlsx(spec, queryset, handle)
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=export_filename(spec, "xlsx"), content_type=XLSX_TYPE
    )


def keyset_ids(queryset, batch: int = 2000):
    """The queryset's primary keys, newest first, a list of at most ``batch`` at a time.

    Not ``.iterator()``: MySQL's default client-side cursor holds the whole result in memory,
    so a million-row export would too. Each batch is a range on the primary key of the
    queryset's own table, without the joins an export needs: with them MariaDB may drive the
    join from a small table and sort every row for each batch.
    """
    base = queryset.order_by("-pk").values_list("pk", flat=True)
    last = None
    while True:
        page = base.filter(pk__lt=last) if last is not None else base
        ids = list(page[:batch])
        if ids:
            yield ids
        if len(ids) < batch:
            return
        last = ids[-1]


def keyset(queryset, batch: int = 2000, related: tuple = ()):
    """The queryset's objects newest first, in bounded batches (``keyset_ids``); each batch is
    read by primary key with ``related`` joined."""
    rows = queryset.model._default_manager.using(queryset.db).select_related(*related)
    for ids in keyset_ids(queryset, batch):
        yield from rows.filter(pk__in=ids).order_by("-pk")
