"""Reading a batch recharge file (批量充值): CSV or XLSX into rows of text, nothing more.

What is refused here is the file as a whole (empty, too big, too many rows, wrong columns, an
encoding that was not chosen, a broken spreadsheet) as a ``BatchFileError`` with a message a
person can act on; what is wrong with one cell (a formula, a reference Excel turned into a
number) is kept on that row, so the preview lists it with the row's other errors. The rules
of each value (customer, amount, reference, method) are ``wallet.batch``'s.

Row numbers are the spreadsheet's: the header is row 1, the first data row is row 2.
"""

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.uploads import NotGbk, NotUtf8, csv_text
from wallet.exceptions import WalletError

CUSTOMER, AMOUNT, REFERENCE, METHOD, MEMO = "customer", "amount", "reference", "method", "memo"
COLUMNS = (CUSTOMER, AMOUNT, REFERENCE, METHOD, MEMO)
REQUIRED_COLUMNS = (CUSTOMER, AMOUNT, METHOD)
# The header each column has in the downloadable template, per language.
COLUMN_TITLES = {
    CUSTOMER: _("customer (username or mobile)"),
    AMOUNT: _("amount"),
    REFERENCE: _("payment reference"),
    METHOD: _("payment method"),
    MEMO: _("memo"),
}
# Header names a person may write, compared after ``_header_key`` (case, spaces, "_", "-"
# and anything in brackets ignored: "金额（元）" is "金额").
HEADER_ALIASES = {
    CUSTOMER: ("customer", "username", "mobile", "客户", "用户名", "手机", "手机号", "客户名"),
    AMOUNT: ("amount", "金额", "充值金额"),
    REFERENCE: (
        "paymentreference",
        "reference",
        "付款流水号",
        "流水号",
        "转账流水号",
        "凭证号",
        "付款凭证号",
        "支付流水号",
        "参考号",
    ),
    METHOD: ("method", "paymentmethod", "付款方式", "支付方式", "充值方式", "方式"),
    MEMO: ("memo", "note", "备注", "说明"),
}
_HEADER_COLUMN = {alias: column for column, names in HEADER_ALIASES.items() for alias in names}

ENCODINGS = {
    "auto": _("Detect (UTF-8)"),
    "utf-8": "UTF-8",
    "gbk": _("GBK / GB18030 (Excel on Chinese Windows)"),
}
# Beyond this many digits a number in a spreadsheet cell has lost digits (IEEE double).
_EXACT_DIGITS = 15

FILE_EMPTY = _("The file is empty: it has no header row and no rows.")
FILE_NO_ROWS = _("The file has a header row but no rows to recharge.")
FILE_TOO_BIG = _(
    "The file is %(size)s KB; at most %(max)s KB is accepted. Split it into smaller files."
)
FILE_TOO_MANY_ROWS = _(
    "The file has more than %(max)s rows; at most %(max)s are applied in one batch. "
    "Split it into smaller files."
)
FILE_NOT_UTF8_LOOKS_GBK = _(
    "The file is not UTF-8: it looks like GBK (GB18030), as Excel saves CSV on Chinese "
    "Windows. Choose “GBK” as the encoding and upload it again, or save it as “CSV UTF-8”."
)
FILE_NOT_UTF8 = _(
    "The file is not UTF-8 and its encoding could not be recognised. Save it as “CSV UTF-8” "
    "or XLSX and upload it again."
)
FILE_NOT_GBK = _("The file is not GBK. Choose “Detect (UTF-8)” as the encoding and try again.")
FILE_OLD_XLS = _("Old Excel files (.xls) are not accepted: save it as .xlsx or CSV UTF-8.")
FILE_BROKEN = _("The file could not be read as CSV or XLSX: %(reason)s")
FILE_MISSING_COLUMNS = _(
    "The file has no column for %(columns)s. The first row must name the columns: %(expected)s."
)
FILE_UNKNOWN_COLUMNS = _(
    "Unknown columns: %(columns)s. The columns are: %(expected)s (Chinese names accepted, "
    "see the template)."
)
FILE_DUPLICATE_COLUMN = _("Two columns mean %(column)s: %(names)s. Keep one.")
NOT_TEXT = _("it is neither a spreadsheet nor text; save it as CSV UTF-8 or XLSX.")
CELL_FORMULA = _("Formulas are not accepted: paste the value instead (%(formula)s).")
CELL_NUMBER_REFERENCE = _(
    "Excel stored this reference as a number and may have changed its digits (%(value)s): "
    "format the column as text and type it again."
)


class BatchFileError(WalletError):
    """The file as a whole cannot be read as a batch recharge file."""


@dataclass
class RawRow:
    """One data row: its spreadsheet number, each column's text, and cell-level errors."""

    number: int
    cells: dict[str, str]
    errors: list[tuple[str, str, dict]] = field(default_factory=list)  # (column, code, params)


@dataclass
class ParsedFile:
    rows: list[RawRow]
    encoding: str  # "" for XLSX
    file_format: str  # "csv" or "xlsx"


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    for opening, closing in ("()", "[]", "【】"):
        start = text.find(opening)
        if start > 0 and closing in text[start:]:
            text = text[:start]
    return "".join(c for c in text if not c.isspace() and c not in "_-")


def join_names(names) -> str:
    """A list for a message: 甲、乙 in Chinese, "a, b" otherwise."""
    return ("、" if (get_language() or "").startswith("zh") else ", ").join(str(n) for n in names)


def expected_columns() -> str:
    """The template's header names in the current language, for messages."""
    return join_names(COLUMN_TITLES[c] for c in COLUMNS)


def _columns(header: list[str]) -> dict[int, str]:
    """Column index → column, or BatchFileError for missing, unknown or doubled columns."""
    found: dict[int, str] = {}
    unknown: list[str] = []
    for index, name in enumerate(header):
        if not name.strip():
            continue  # an unnamed column (often a stray empty one) is not read
        column = _HEADER_COLUMN.get(_header_key(name))
        if column is None:
            unknown.append(name.strip())
        else:
            found[index] = column
    if unknown:
        raise BatchFileError(
            FILE_UNKNOWN_COLUMNS, columns=join_names(unknown), expected=expected_columns()
        )
    for column in COLUMNS:
        names = [header[i].strip() for i, c in found.items() if c == column]
        if len(names) > 1:
            raise BatchFileError(
                FILE_DUPLICATE_COLUMN, column=COLUMN_TITLES[column], names=join_names(names)
            )
    missing = [str(COLUMN_TITLES[c]) for c in REQUIRED_COLUMNS if c not in found.values()]
    if missing:
        raise BatchFileError(
            FILE_MISSING_COLUMNS, columns=join_names(missing), expected=expected_columns()
        )
    return found


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    """The text and the encoding it was read with; BatchFileError when it is not that one."""
    try:
        return csv_text(data, encoding), ("gbk" if encoding == "gbk" else "utf-8")
    except NotGbk as exc:
        raise BatchFileError(FILE_NOT_GBK) from exc
    except NotUtf8 as exc:
        looks_gbk = encoding == "auto" and exc.gbk_readable
        raise BatchFileError(FILE_NOT_UTF8_LOOKS_GBK if looks_gbk else FILE_NOT_UTF8) from exc


def _too_many(count: int) -> None:
    limit = settings.WALLET_BATCH_MAX_ROWS
    if count > limit:
        raise BatchFileError(FILE_TOO_MANY_ROWS, max=limit)


def _read_csv(data: bytes, encoding: str) -> ParsedFile:
    text, used = _decode(data, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise BatchFileError(FILE_BROKEN, reason=str(exc)) from exc
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise BatchFileError(FILE_EMPTY)
    columns = _columns(lines[0])
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        row = RawRow(number, {c: "" for c in COLUMNS})
        for index, column in columns.items():
            value = line[index].strip() if index < len(line) else ""
            if value.startswith("="):
                row.errors.append((column, "formula", {"formula": value[:40]}))
                value = ""
            row.cells[column] = value
        rows.append(row)
        _too_many(len(rows))
    return ParsedFile(rows, used, "csv")


def _cell_text(row: RawRow, column: str, cell) -> str:
    """An XLSX cell as the text a person typed into it."""
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f" or (
        isinstance(value, str) and value.startswith("=")
    ):
        row.errors.append((column, "formula", {"formula": str(value)[:40]}))
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if value.is_integer() and abs(value) < 10**_EXACT_DIGITS:
            text = str(int(value))
        else:
            text = format(Decimal(repr(value)), "f")
        if column == REFERENCE and not (value.is_integer() and abs(value) < 10**_EXACT_DIGITS):
            row.errors.append((column, "number_reference", {"value": repr(value)}))
            return ""
    elif isinstance(value, datetime | date):
        text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    else:
        text = str(value)
    return text.strip()


def _read_xlsx(data: bytes) -> ParsedFile:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - a broken upload is the person's to fix, not a 500
        raise BatchFileError(FILE_BROKEN, reason=type(exc).__name__) from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise BatchFileError(FILE_EMPTY)
        lines = sheet.iter_rows(max_col=32)
        header = next(lines, None)
        names = [("" if c.value is None else str(c.value)) for c in header or ()]
        if not any(name.strip() for name in names):
            raise BatchFileError(FILE_EMPTY)
        columns = _columns(names)
        rows = []
        for number, line in enumerate(lines, start=2):
            if all(c.value is None or str(c.value).strip() == "" for c in line):
                continue
            row = RawRow(number, {c: "" for c in COLUMNS})
            for index, column in columns.items():
                row.cells[column] = (
                    _cell_text(row, column, line[index]) if index < len(line) else ""
                )
            rows.append(row)
            _too_many(len(rows))
    except BatchFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - as above: a broken sheet inside a valid zip
        raise BatchFileError(FILE_BROKEN, reason=type(exc).__name__) from exc
    finally:
        book.close()
    return ParsedFile(rows, "", "xlsx")


def batch_file_read(*, data: bytes, encoding: str = "auto") -> ParsedFile:
    """The rows of an uploaded CSV or XLSX (recognised by content, not by name)."""
    limit = settings.WALLET_BATCH_MAX_BYTES
    if len(data) > limit:
        raise BatchFileError(FILE_TOO_BIG, size=(len(data) + 1023) // 1024, max=limit // 1024)
    if not data.strip():
        raise BatchFileError(FILE_EMPTY)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise BatchFileError(FILE_OLD_XLS)
    if data.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise BatchFileError(FILE_BROKEN, reason="zip")
        parsed = _read_xlsx(data)
    elif b"\x00" in data[:4096]:  # a picture, a PDF, UTF-16 "Unicode text": not a CSV we read
        raise BatchFileError(FILE_BROKEN, reason=NOT_TEXT)
    else:
        parsed = _read_csv(data, encoding)
    if not parsed.rows:
        raise BatchFileError(FILE_NO_ROWS)
    return parsed


def _template_rows() -> list[list[str]]:
    """The template's header (current language) and two example rows."""
    header = [str(COLUMN_TITLES[c]) for c in COLUMNS]
    return [
        header,
        [
            "13800138000",
            "1000.00",
            "2024010188000123",
            str(_("Bank transfer")),
            str(_("March top-up")),
        ],
        ["alice", "250.50", "", str(_("Cash")), ""],
    ]


def batch_template_csv() -> bytes:
    """The template as CSV: UTF-8 with a BOM, so Excel shows the Chinese headers."""
    out = io.StringIO()
    csv.writer(out).writerows(_template_rows())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def batch_template_xlsx() -> bytes:
    """The template as XLSX, every column text (a reference or mobile keeps its digits)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in _template_rows():
        sheet.append(row)
    for letter, width in zip("ABCDE", (28, 12, 24, 16, 24), strict=True):
        sheet.column_dimensions[letter].width = width
        sheet.column_dimensions[letter].number_format = "@"
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
