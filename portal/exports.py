"""CSV downloads of the customer's own rows, streamed, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse
from django.utils import timezone

from core.exports import escape_formula


class _Echo:
    """A file-like object whose write() hands back the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    *, filename: str, header: list[str], rows: Iterable[list]
) -> StreamingHttpResponse:
    """Stream ``rows`` as UTF-8 CSV with a BOM (so Excel reads Chinese right), formulas escaped."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        yield writer.writerow([str(cell) for cell in header])
        for row in rows:
            # Only text is escaped: a negative amount stays a number the spreadsheet can add up.
            yield writer.writerow(
                ["" if cell is None else str(escape_formula(cell)) for cell in row]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


def local_time(value) -> str:
    """A datetime in the site's time zone, as ``2026-11-24 16:30:05``."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""
