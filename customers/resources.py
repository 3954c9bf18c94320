"""Customer import and export (django-import-export), CSV and XLSX.

Columns: username, name, mobile, level (by name), account_manager (by username), active.
Every row is checked before anything is written: one invalid row refuses the whole file (the
admin shows each error by row number and column). A row whose username or mobile belongs to
an existing customer updates that customer (by mobile: leave the username empty, or give the
same customer's; a new username with another customer's mobile is refused, never a rename).
Rows are written in bulk, a batch at a time,
through ``customers.services.customers_bulk_create`` / ``customers_bulk_update``.
"""

import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources

from core.exports import (
    IDENT,
    NUMBER,
    TEXT,
    ExportSpec,
    escape_formula,
    keyset,
    looks_like_formula,
)
from customers.exceptions import (
    INVALID_MOBILE,
    LEVEL_INACTIVE,
    InvalidMobile,
)
from customers.models import Customer, Level
from customers.phone import normalize_mobile
from customers.services import (
    customers_bulk_create,
    customers_bulk_insert,
    customers_bulk_update,
)

User = get_user_model()

COLUMNS = ("username", "name", "mobile", "level", "account_manager", "active")
IGNORED_COLUMNS = ("created_at",)  # in our exports; read back without effect
# Headers a person may type instead of the English column names.
HEADER_ALIASES = {
    "用户名": "username",
    "名称": "name",
    "显示名称": "name",
    "客户名称": "name",
    "手机": "mobile",
    "手机号": "mobile",
    "等级": "level",
    "客户经理": "account_manager",
    "account manager": "account_manager",
    "创建时间": "created_at",
    "created at": "created_at",
    "启用": "active",
    "有效": "active",
}
TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "启用", "有效"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "否", "停用", "无效"}
LOOKUP_CHUNK = 1000
INVALID = object()  # a mobile that could not be parsed
# A preview page shows at most this many rows (a 100,000-row table is 100 MB of HTML); its
# summary counts every row, and every row was checked.
PREVIEW_ROWS = 1000

REQUIRED = gettext_lazy("This column is required.")
USERNAME_INVALID = gettext_lazy(
    "Usernames are at most 150 letters, digits and @/./+/-/_ characters."
)
NAME_TOO_LONG = gettext_lazy("Names are at most 100 characters.")
LEVEL_UNKNOWN = gettext_lazy("There is no level named %(level)s.")
MANAGER_UNKNOWN = gettext_lazy("%(username)s is not an active staff user.")
ACTIVE_INVALID = gettext_lazy("Write 1 or 0 (yes/no, 是/否).")
DUPLICATE_IN_FILE = gettext_lazy("%(value)s already appears on row %(row)s of this file.")
NOT_A_CUSTOMER = gettext_lazy("The username %(username)s belongs to a staff user.")
FORMULA_CELL = gettext_lazy(
    "This cell is a spreadsheet formula (it starts with %(start)s); write the value itself."
)
OTHER_CUSTOMERS_MOBILE = gettext_lazy(
    "The mobile number %(mobile)s belongs to another customer (%(username)s)."
)


def _text(value) -> str:
    """A cell as stripped text; a leading ' that our own export added is removed."""
    text = "" if value is None else str(value).strip()
    if isinstance(value, float) and value.is_integer():  # XLSX numbers: 13800138000.0
        text = str(int(value))
    return text[1:] if text.startswith("'") else text


def export_mobile(mobile: str) -> str:
    """Mainland numbers as the 11 digits people type; others in E.164."""
    return mobile[3:] if mobile.startswith("+86") else mobile


class CustomerResource(resources.ModelResource):
    """The customer file: what the admin imports and exports, and what the benchmark times."""

    username = fields.Field(column_name="username")
    name = fields.Field(column_name="name")
    mobile = fields.Field(column_name="mobile")
    level = fields.Field(column_name="level")
    account_manager = fields.Field(column_name="account_manager")
    active = fields.Field(column_name="active")

    class Meta:
        model = Customer
        fields = COLUMNS
        import_id_fields = ("username",)
        use_bulk = True
        batch_size = 1000
        # No per-row diff of model instances: the preview shows the row's parsed values.
        skip_diff = True
        store_instance = False
        use_transactions = True

    # -- export ------------------------------------------------------------------------------

    def get_export_queryset(self, request=None):
        return Customer.objects.select_related("user", "level", "account_manager")

    def dehydrate_username(self, customer: Customer) -> str:
        return customer.user.username

    def dehydrate_name(self, customer: Customer) -> str:
        return customer.name

    def dehydrate_mobile(self, customer: Customer) -> str:
        return export_mobile(customer.mobile)

    def dehydrate_level(self, customer: Customer) -> str:
        return customer.level.name

    def dehydrate_account_manager(self, customer: Customer) -> str:
        manager = customer.account_manager
        return manager.get_username() if manager is not None else ""

    def dehydrate_active(self, customer: Customer) -> int:
        return 1 if customer.is_active else 0

    def export_field(self, field, instance, **kwargs):
        """Every exported cell is spreadsheet-safe (a leading =, +, -, @, tab or CR is quoted)."""
        return escape_formula(super().export_field(field, instance, **kwargs))

    def export(self, queryset=None, **kwargs):
        """Export with the joins every row needs (one query, streamed in chunks)."""
        if queryset is not None:
            queryset = queryset.select_related("user", "level", "account_manager")
        return super().export(queryset, **kwargs)

    # -- import: whole-file preparation ------------------------------------------------------

    def import_data(self, dataset, **kwargs):
        """Any invalid row rolls the whole import back; instances are never kept per row.

        A preview keeps the first PREVIEW_ROWS rows (and invalid rows) for the page; the
        counts still cover every row (``preview_rows_total`` / ``invalid_rows_total``).
        """
        kwargs["rollback_on_validation_errors"] = True
        kwargs.pop("retain_instance_in_row_result", None)
        result = super().import_data(dataset, **kwargs)
        result.preview_rows_total = len(result.rows)
        result.invalid_rows_total = len(result.invalid_rows)
        if kwargs.get("dry_run"):
            del result.rows[PREVIEW_ROWS:]
            del result.invalid_rows[PREVIEW_ROWS:]
        return result

    def before_import(self, dataset, **kwargs):
        """Normalise headers; load levels, staff and the customers this file touches."""
        if dataset.headers:
            dataset.headers = [
                HEADER_ALIASES.get(str(h).strip(), str(h).strip().lower()) for h in dataset.headers
            ]
        self._levels = {level.name: level for level in Level.objects.all()}
        self._managers = {
            user.get_username(): user for user in User.objects.filter(is_staff=True, is_active=True)
        }
        self._seen_usernames: dict[str, int] = {}
        self._seen_mobiles: dict[str, int] = {}
        self._pending_previous: dict[int, int | None] = {}
        self._dataset = dataset
        self._chunk_end = 0
        self._mobiles: dict[int, str | None] = {}
        self._by_username: dict[str, int | None] = {}
        self._by_mobile: dict[str, tuple[int, str]] = {}

    def _load_chunk(self, first: int) -> None:
        """Look ahead LOOKUP_CHUNK rows from row ``first``: normalise their mobiles once and
        find which usernames and mobiles already exist, in two queries.

        Only one chunk is held at a time, so memory does not grow with the file.
        """
        headers = self._dataset.headers or []
        u_col = headers.index("username") if "username" in headers else None
        m_col = headers.index("mobile") if "mobile" in headers else None
        last = min(first + LOOKUP_CHUNK - 1, len(self._dataset))
        self._mobiles, usernames = {}, []
        for number in range(first, last + 1):
            row = self._dataset[number - 1]
            if u_col is not None and (username := _text(row[u_col])):
                usernames.append(username)
            raw = _text(row[m_col]) if m_col is not None else ""
            try:
                self._mobiles[number] = fast_normalize_mobile(raw) if raw else None
            except InvalidMobile:
                self._mobiles[number] = INVALID
        # Usernames match regardless of case, as MariaDB's collation compares them (and as
        # the add form checks them), so "Alice" in a file updates the customer "alice".
        users = User.objects.all()
        if connections[users.db].vendor == "mysql":  # the column is case-insensitive: indexed
            users = users.filter(username__in=usernames)
        else:
            users = users.annotate(lowered=Lower("username")).filter(
                lowered__in=[u.lower() for u in usernames]
            )
        self._by_username = {
            name.lower(): pk for name, pk in users.values_list("username", "customer__pk")
        }
        mobiles = [m for m in self._mobiles.values() if m and m is not INVALID]
        rows = Customer.objects.filter(mobile__in=mobiles).values_list(
            "mobile", "pk", "user__username"
        )
        self._by_mobile = {mobile: (pk, name) for mobile, pk, name in rows}
        self._chunk_end = last

    # -- import: one row ---------------------------------------------------------------------

    def before_import_row(self, row, **kwargs):
        """Parse and check the whole row; raise every error at once, keyed by column."""
        number = kwargs.get("row_number")
        if number > self._chunk_end:
            self._load_chunk(number)
        errors: dict[str, list[str]] = {}
        values = self._parse(row, errors, self._mobiles.get(number))
        self._check_duplicates(values, number, errors)
        existing_id = self._resolve_existing(values, errors)
        if errors:
            self._row = None
            raise ValidationError({column: messages for column, messages in errors.items()})
        self._row = (values, existing_id)

    def _parse(self, row, errors, mobile) -> dict:
        # An empty cell is no value: a new customer gets the default, an update keeps its own.
        values = {column: _text(row.get(column)) for column in COLUMNS if column in row}
        values = {column: value for column, value in values.items() if value}
        username = values.get("username", "")
        if username and (len(username) > 150 or not _username_ok(username)):
            errors.setdefault("username", []).append(str(USERNAME_INVALID))
        if "name" in values and len(values["name"]) > 100:
            errors.setdefault("name", []).append(str(NAME_TOO_LONG))
        if "mobile" in values:  # normalised by _load_chunk
            if mobile is INVALID or mobile is None:
                errors.setdefault("mobile", []).append(str(INVALID_MOBILE))
                values["mobile"] = None
            else:
                values["mobile"] = mobile
        if "level" in values:
            level = self._levels.get(values["level"])
            if level is None:
                message = LEVEL_UNKNOWN % {"level": values["level"]}
                errors.setdefault("level", []).append(message)
            elif not level.is_active:
                errors.setdefault("level", []).append(LEVEL_INACTIVE % {"level": level.name})
            values["level"] = level
        if "account_manager" in values:
            manager_name = values["account_manager"]
            manager = self._managers.get(manager_name)
            if manager is None:
                message = MANAGER_UNKNOWN % {"username": manager_name}
                errors.setdefault("account_manager", []).append(message)
            values["account_manager"] = manager
        if "active" in values:
            word = values["active"].lower()
            if word in TRUE_WORDS:
                values["active"] = True
            elif word in FALSE_WORDS:
                values["active"] = False
            else:
                errors.setdefault("active", []).append(str(ACTIVE_INVALID))
        return values

    def _check_duplicates(self, values, number, errors) -> None:
        for column, seen in (("username", self._seen_usernames), ("mobile", self._seen_mobiles)):
            value = values.get(column)
            if not value:
                continue
            key = value.lower()
            if key in seen:
                message = DUPLICATE_IN_FILE % {"value": value, "row": seen[key]}
                errors.setdefault(column, []).append(message)
            else:
                seen[key] = number

    def _resolve_existing(self, values, errors) -> int | None:
        """The id of the customer this row updates, or None for a new customer.

        A row names its customer by username, or by mobile with the username left empty; when
        it gives both, they must belong to the same customer (a new username with another
        customer's mobile is refused, never a rename).
        """
        username, mobile = values.get("username"), values.get("mobile")
        by_username = self._by_username.get(username.lower(), 0) if username else 0
        if by_username is None:  # a user that is not a customer (staff)
            errors.setdefault("username", []).append(NOT_A_CUSTOMER % {"username": username})
            return None
        owner = self._by_mobile.get(mobile) if mobile else None
        if username and owner and owner[0] != by_username:
            message = OTHER_CUSTOMERS_MOBILE % {"mobile": mobile, "username": owner[1]}
            errors.setdefault("mobile", []).append(message)
            return None
        if by_username:
            return by_username
        if owner:
            values["username"] = owner[1]
            return owner[0]
        for column in ("username", "name", "mobile", "level"):
            if not values.get(column) and column not in errors:
                errors.setdefault(column, []).append(str(REQUIRED))
        return None

    def get_or_init_instance(self, instance_loader, row):
        """The customer found by username or mobile, or a new one with an unsaved user."""
        values, existing_id = self._row
        if existing_id is not None:
            customer = Customer.objects.select_related("user", "level", "account_manager").get(
                pk=existing_id
            )
            return customer, False
        # Unusable, like make_password(None), without its 40 random.choice calls per row.
        password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
        user = User(username=values["username"], is_staff=False, password=password)
        return Customer(user=user, is_active=True), True

    def import_instance(self, instance, row, **kwargs):
        """Apply the parsed row to the customer (and its user)."""
        values, _existing = self._row
        if instance.pk is not None:
            self._pending_previous[instance.pk] = instance.account_manager_id
        for column in ("name", "mobile", "level"):
            if values.get(column):
                setattr(instance, column, values[column])
        if "account_manager" in values:
            instance.account_manager = values["account_manager"]
        if values.get("active") is not None:
            instance.is_active = values["active"]
        instance.user.is_active = instance.is_active

    def after_import_row(self, row, row_result, **kwargs):
        """In the preview, show the row as it will be saved (the library's diff is off)."""
        if kwargs.get("dry_run") and self._row is not None:
            values, _existing = self._row
            level, manager = values.get("level"), values.get("account_manager")
            active = values.get("active")
            row_result.diff = [
                values.get("username", ""),
                values.get("name", ""),
                values.get("mobile") or "",
                level.name if level is not None else "",
                manager.get_username() if manager is not None else "",
                "" if active is None else (_("yes") if active else _("no")),
            ]

    # -- import: the bulk path of background jobs (jobs.imports) ----------------------------

    EXPECTED_HEADERS = COLUMNS

    @classmethod
    def unknown_headers(cls, headers: list[str]) -> list[str]:
        """Headers that name no column (English names or the Chinese aliases)."""
        return [
            header
            for header in headers
            if header
            and HEADER_ALIASES.get(header, header.lower()) not in (*COLUMNS, *IGNORED_COLUMNS)
        ]

    def import_fast(
        self,
        dataset,
        *,
        dry_run: bool,
        progress,
        errors_kept: int = 1000,
        file_checked: bool = False,
    ) -> dict:
        """Check every row (as ``import_data`` does) and, unless ``dry_run``, write them in bulk.

        The same per-row checks as the library path (``_parse``, ``_check_duplicates``,
        ``_resolve_existing``) plus formula cells, without the library's per-row result objects
        and instance loading: new customers go to ``customers_bulk_create`` WRITE_BATCH at a
        time, updates load their customers WRITE_BATCH at a time. Writing stops at the first
        invalid row; the caller's transaction then rolls back what was written. Returns the
        counts and the first ``errors_kept`` errors by row and column.

        ``file_checked``: this very file (same SHA-256) already passed a check, so the checks
        that read only the file (formula cells, duplicates within the file) are not run again;
        everything the database can have changed since (levels, managers, existing usernames
        and mobiles) still is.
        """
        self.before_import(dataset)
        headers = list(dataset.headers or [])
        counts = {"rows": 0, "new": 0, "update": 0, "invalid": 0}
        errors: list[dict] = []
        creates: list[dict] = []
        updates: list[tuple[int, dict]] = []
        step = 0
        for number, cells in enumerate(dataset, start=1):
            counts["rows"] += 1
            if number > self._chunk_end:
                self._load_chunk(number)
            row = dict(zip(headers, cells, strict=False))
            row_errors: dict[str, list[str]] = {}
            if not file_checked:
                _check_formulas(row, row_errors)
            values = self._parse(row, row_errors, self._mobiles.get(number))
            if not file_checked:
                self._check_duplicates(values, number, row_errors)
            existing = (
                None if row_errors.get("username") else self._resolve_existing(values, row_errors)
            )
            if row_errors:
                counts["invalid"] += 1
                for column, messages in row_errors.items():
                    for message in messages:
                        if len(errors) < errors_kept:
                            errors.append({"row": number, "column": column, "message": message})
            elif existing is not None:
                counts["update"] += 1
                if not dry_run and not counts["invalid"]:
                    updates.append((existing, values))
            else:
                counts["new"] += 1
                if not dry_run and not counts["invalid"]:
                    creates.append(values)
            if len(creates) >= WRITE_BATCH:
                _create(creates)
                creates = []
            if len(updates) >= WRITE_BATCH:
                self._update(updates)
                updates = []
            step += 1
            if step == PROGRESS_STEP:
                progress(step)
                step = 0
        if not dry_run and not counts["invalid"]:
            _create(creates)
            self._update(updates)
        progress(step)
        return {**counts, "errors": errors}

    def _update(self, updates: list[tuple[int, dict]]) -> None:
        if not updates:
            return
        found = Customer.objects.select_related("user").in_bulk([pk for pk, _v in updates])
        customers, previous = [], {}
        for pk, values in updates:
            customer = found[pk]
            previous[pk] = customer.account_manager_id
            _apply(customer, values)
            customers.append(customer)
        customers_bulk_update(customers=customers, previous_managers=previous)

    # -- import: bulk writes -----------------------------------------------------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Create a batch through the customers service (users, rows, manager permissions).

        Not in the preview: every row was already checked against the database and the rest of
        the file, and writing 100,000 rows only to roll them back costs more than the import.
        A constraint that still fails at the confirmed import (a concurrent change) is
        reported there, and the whole import rolls back.
        """
        if dry_run:
            self.create_instances.clear()
        elif self.create_instances:
            try:
                customers_bulk_create(customers=list(self.create_instances))
            except DatabaseError as exc:  # a concurrent duplicate: reported, all rolled back
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Update a batch through the customers service, moving manager permissions."""
        if dry_run:
            self.update_instances.clear()
            self._pending_previous = {}
        elif self.update_instances:
            try:
                customers_bulk_update(
                    customers=list(self.update_instances),
                    previous_managers=self._pending_previous,
                )
            except DatabaseError as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.update_instances.clear()
                self._pending_previous = {}


# Django's UnicodeUsernameValidator pattern, compiled once (the validator's lazy regex costs
# more than the rest of a row's checks).
USERNAME_PATTERN = re.compile(UnicodeUsernameValidator.regex, UnicodeUsernameValidator.flags)


def _username_ok(username: str) -> bool:
    return USERNAME_PATTERN.match(username) is not None


WRITE_BATCH = 2000
PROGRESS_STEP = 100
FORMULA_COLUMNS = ("username", "name", "mobile", "level", "account_manager", "active")
IGNORED_COLUMNS = ("created_at",)  # in our exports; read back without effect


def _check_formulas(row: dict, errors: dict) -> None:
    for column in FORMULA_COLUMNS:
        value = row.get(column)
        if isinstance(value, str) and looks_like_formula(value.strip()):
            start = value.strip()[:1]
            errors.setdefault(column, []).append(str(FORMULA_CELL % {"start": repr(start)}))


def _apply(customer: Customer, values: dict) -> None:
    """A checked row's values on a customer (new or existing) and its user."""
    for column in ("name", "mobile", "level"):
        if values.get(column):
            setattr(customer, column, values[column])
    if "account_manager" in values:
        customer.account_manager = values["account_manager"]
    if values.get("active") is not None:
        customer.is_active = values["active"]
    customer.user.is_active = customer.is_active


def _create(rows: list[dict]) -> None:
    """New customers in bulk: users with unusable passwords, rows, manager permissions."""
    if not rows:
        return
    customers_bulk_insert(
        rows=[
            {
                "username": values["username"],
                # Unusable, like make_password(None), without hashing or random.choice calls.
                "password": UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
                "name": values["name"],
                "mobile": values["mobile"],
                "level_id": values["level"].pk,
                "account_manager_id": getattr(values.get("account_manager"), "pk", None),
                "is_active": values.get("active") is not False,
            }
            for values in rows
        ]
    )


# Mainland mobiles written as 11 digits are most of every file. Whether phonenumbers accepts
# one (valid, and a mobile) depends only on its first MOBILE_PREFIX digits (the metadata's
# mobile ranges are 1[3-9]x… up to "1740[0-5]"; nothing past the fifth digit), so each prefix
# is asked once and the rest become "+86…" without parsing: phonenumbers costs ~60 µs a row.
PLAIN_MAINLAND = re.compile(r"1[3-9]\d{9}")
MOBILE_PREFIX = 5
_prefix_ok: dict[str, bool] = {}


def fast_normalize_mobile(raw: str) -> str:
    """``normalize_mobile`` with the answer for plain 11-digit mainland numbers cached by prefix."""
    if PLAIN_MAINLAND.fullmatch(raw) is None:
        return normalize_mobile(raw)
    prefix = raw[:MOBILE_PREFIX]
    ok = _prefix_ok.get(prefix)
    if ok is None:
        try:
            normalize_mobile(raw)
            ok = True
        except InvalidMobile:
            ok = False
        _prefix_ok[prefix] = ok
    if not ok:
        raise InvalidMobile(INVALID_MOBILE)
    return "+86" + raw


# -- export (core.exports, jobs.exports): the same columns, headers an import reads back ------


def customer_export_spec() -> ExportSpec:
    """Customers as CSV/XLSX; the headers (English or Chinese) are what the import reads."""
    return ExportSpec(
        name="customers",
        sheet=gettext_lazy("customers"),
        columns=[
            (gettext_lazy("username"), TEXT),
            (gettext_lazy("name"), TEXT),
            (gettext_lazy("mobile"), IDENT),
            (gettext_lazy("level"), TEXT),
            (gettext_lazy("account manager"), TEXT),
            (gettext_lazy("active"), NUMBER),
            (gettext_lazy("created at"), TEXT),
        ],
        rows=_export_rows,
    )


def _export_rows(queryset):
    from django.utils import timezone

    for customer in keyset(queryset, related=("user", "level", "account_manager")):
        manager = customer.account_manager
        yield [
            customer.user.username,
            customer.name,
            export_mobile(customer.mobile),
            customer.level.name,
            manager.get_username() if manager is not None else "",
            1 if customer.is_active else 0,
            timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        ]
