"""Batch recharge from a file (批量充值): preview, confirm, approve, apply, reject.

Upload → ``batch_preview`` reads the file (``wallet.batch_files``), checks every row by the
single recharge's rules (``parse_amount``, ``payment_reference_normalize``, a reference unique
per method in the ledger and in the file) and records a ``RechargeBatch`` with each row, its
customer's balance now and after, and its errors. Nothing moves money yet.

``batch_confirm`` applies a batch without errors — or, when its total is above
``WALLET_BATCH_APPROVAL_THRESHOLD``, sends it for approval by a second person holding
``wallet.approve_rechargebatch`` (the 管理员 role), who is neither the uploader nor the one who
confirmed; ``batch_approve`` records the approval and applies it.

Applying writes one ledger entry per row through ``wallet_recharge``, all inside one
transaction on the locked batch row: any refusal rolls every row back, and the batch stays as
it was with the reason in ``result``. Each row's idempotency key is ``batch:<SHA-256 of the
file>:<row>``: a second confirm, a second batch of the same file, or a race of both, writes
nothing twice (the service replays a known key).
"""

import hashlib
import logging
import random
import time
import unicodedata
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from customers.exceptions import InvalidMobile
from customers.models import Customer
from customers.phone import normalize_mobile
from customers.selectors import customer_scope
from wallet import permissions
from wallet.batch_files import (
    AMOUNT,
    CELL_FORMULA,
    CELL_NUMBER_REFERENCE,
    COLUMN_TITLES,
    CUSTOMER,
    MEMO,
    METHOD,
    REFERENCE,
    batch_file_read,
    join_names,
)
from wallet.exceptions import (
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    REFERENCE_TOO_LONG,
    InvalidAmount,
    WalletError,
)
from wallet.models import Account, Entry, RechargeBatch
from wallet.money import parse_amount
from wallet.services import (
    PRIMARY,
    REFERENCE_MAX_LENGTH,
    _is_deadlock,
    payment_reference_normalize,
    wallet_recharge,
)

APPROVE = "wallet.approve_rechargebatch"
Status = RechargeBatch.Status
LOOKUP_CHUNK = 1000
MEMO_MAX_LENGTH = Entry._meta.get_field("memo").max_length
CUSTOMER_MAX_LENGTH = 150
DEADLOCK_RETRIES = 3

logger = logging.getLogger(__name__)

# -- messages -----------------------------------------------------------------------------------

NOT_ALLOWED = _("You may not upload or apply batch recharges.")
APPROVE_NOT_ALLOWED = _("Only an administrator (管理员) may approve a batch recharge.")
OWN_BATCH = _(
    "You uploaded or confirmed this batch yourself; another administrator must approve it."
)
REJECT_NOT_ALLOWED = _("Only the uploader or an administrator may reject this batch.")
WRONG_STATUS = _("This batch is %(status)s; nothing was changed.")
HAS_ERRORS = _("This batch has %(count)s rows with errors: correct the file and upload it again.")
ALREADY_UPLOADED = _(
    "This file was already uploaded on %(time)s as batch #%(batch)s (%(status)s); a file "
    "recharges once. Here is that batch."
)
APPLY_FAILED = _("Row %(row)s (%(customer)s): %(reason)s Nothing was applied.")
BUSY = _("The database was busy; nothing was applied. Try again.")
DEFAULT_MEMO = _("Batch recharge #%(batch)s, row %(row)s")

# What is wrong with a cell, by code; rows keep [column, code, params] and are shown in the
# reader's language.
ROW_ERRORS = {
    "formula": CELL_FORMULA,
    "number_reference": CELL_NUMBER_REFERENCE,
    "customer_required": _("Enter the customer's username or mobile."),
    "customer_too_long": _("A username or mobile has at most %(max)s characters."),
    "customer_unknown": _("No customer has the username or mobile %(value)s."),
    "customer_ambiguous": _(
        "%(value)s is the username of one customer and the mobile of another: write the "
        "mobile as +86…, or the other customer's username."
    ),
    "amount_not_a_number": AMOUNT_NOT_A_NUMBER,
    "amount_not_positive": AMOUNT_NOT_POSITIVE,
    "amount_too_precise": AMOUNT_TOO_PRECISE,
    "amount_too_large": AMOUNT_TOO_LARGE,
    "method_required": _("Enter the payment method: %(choices)s."),
    "method_unknown": _("Unknown payment method %(value)s: write one of %(choices)s."),
    "reference_too_long": REFERENCE_TOO_LONG,
    "reference_in_ledger": _(
        "Payment reference %(reference)s (%(method)s) was already entered on %(time)s for "
        "%(customer)s (ledger entry %(entry)s)."
    ),
    "reference_in_file": _(
        "Payment reference %(reference)s (%(method)s) already appears on row %(row)s."
    ),
    "row_repeated": _(
        "This row repeats row %(row)s exactly. If both payments are real, give each its "
        "payment reference."
    ),
    "memo_too_long": _("A memo has at most %(max)s characters."),
}
_AMOUNT_CODES = {
    "amount_not_a_number": AMOUNT_NOT_A_NUMBER,
    "amount_not_positive": AMOUNT_NOT_POSITIVE,
    "amount_too_precise": AMOUNT_TOO_PRECISE,
    "amount_too_large": AMOUNT_TOO_LARGE,
}
# Other words for the payment methods, beside their codes and English and Chinese labels.
METHOD_ALIASES = {
    "bank": "bank_transfer",
    "银行": "bank_transfer",
    "转账": "bank_transfer",
    "对公转账": "bank_transfer",
    "微信": "wechat",
    "weixin": "wechat",
}


class BatchError(WalletError):
    """A batch cannot be uploaded, confirmed, approved, applied or rejected as asked."""


class BatchAlreadyUploaded(BatchError):
    """The same file is already a batch that is applied or on its way to be."""

    def __init__(self, message, *, existing: RechargeBatch, **params):
        self.batch = existing
        super().__init__(message, batch=existing.pk, **params)


class BatchApplyFailed(BatchError):
    """A row was refused while applying; everything was rolled back."""


# -- reading rows -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def method_names() -> dict[str, str]:
    """Every accepted way of writing a payment method (folded) → its code."""
    names = {_fold(alias): code for alias, code in METHOD_ALIASES.items()}
    for code, label in Entry.PaymentMethod.choices:
        names[_fold(code)] = code
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names[_fold(str(label))] = code
    return names


def _method_choices() -> str:
    return join_names(label for _code, label in Entry.PaymentMethod.choices)


def _customers_named(terms: set[str], user: AbstractBaseUser) -> dict[str, list[Customer]]:
    """Each typed username or mobile → the customers (visible to ``user``) it names."""
    scope = customer_scope(Customer.objects.select_related("user"), user)
    usernames = sorted(t for t in terms if t.isascii() and not any(c.isspace() for c in t))
    mobiles: dict[str, str] = {}
    for term in terms:
        try:
            mobiles[term] = normalize_mobile(term)
        except InvalidMobile:
            pass
    by_username: dict[str, list[Customer]] = defaultdict(list)
    for start in range(0, len(usernames), LOOKUP_CHUNK):
        for customer in scope.filter(user__username__in=usernames[start : start + LOOKUP_CHUNK]):
            by_username[customer.user.get_username().casefold()].append(customer)
    wanted = sorted(set(mobiles.values()))
    by_mobile: dict[str, Customer] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        for customer in scope.filter(mobile__in=wanted[start : start + LOOKUP_CHUNK]):
            by_mobile[customer.mobile] = customer
    found = {}
    for term in terms:
        candidates = by_username.get(term.casefold(), [])
        # Exactly as typed first; else case-insensitively (two such customers: ambiguous).
        exact = [c for c in candidates if c.user.get_username() == term]
        matches = {c.pk: c for c in (exact or candidates)}
        if term in mobiles and mobiles[term] in by_mobile:
            customer = by_mobile[mobiles[term]]
            matches.setdefault(customer.pk, customer)
        found[term] = list(matches.values())
    return found


def _ledger_references(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Entry]:
    """The ledger entries already holding these (method, reference) payments."""
    references = sorted({reference for _method, reference in pairs})
    held = {}
    for start in range(0, len(references), LOOKUP_CHUNK):
        entries = (
            Entry.objects.using(PRIMARY)
            .filter(payment_reference__in=references[start : start + LOOKUP_CHUNK])
            .select_related("account__customer")
        )
        for entry in entries:
            pair = (entry.payment_method, entry.payment_reference)
            if pair in pairs:
                held[pair] = entry
    return held


def _recorded(keys: list[str]) -> dict[str, int]:
    """Idempotency key → ledger entry id, for the keys already in the ledger."""
    recorded = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows = Entry.objects.using(PRIMARY).filter(
            idempotency_key__in=keys[start : start + LOOKUP_CHUNK]
        )
        recorded.update(rows.values_list("idempotency_key", "pk"))
    return recorded


def row_key(file_hash: str, row: int) -> str:
    """The ledger idempotency key of one row of one file (by content, whoever uploads it)."""
    return f"batch:{file_hash}:{row}"


def _amount(text: str) -> tuple[Decimal | None, tuple | None]:
    try:
        return parse_amount(text), None
    except InvalidAmount as exc:
        # The service's message is already text; find its constant to keep the code.
        for code, message in _AMOUNT_CODES.items():
            text = str(message) % exc.params if exc.params else str(message)
            if text == exc.message:
                return None, (code, {k: str(v) for k, v in exc.params.items()})
        return None, ("amount_not_a_number", {})


def _check_rows(parsed_rows, *, file_hash: str, user: AbstractBaseUser) -> list[dict]:
    """Every row as stored on the batch: values, customer, errors (not yet balances)."""
    terms = {r.cells[CUSTOMER] for r in parsed_rows if r.cells[CUSTOMER]}
    customers = _customers_named(terms, user)
    methods = method_names()
    rows: list[dict] = []
    seen_payments: dict[tuple[str, str], int] = {}
    seen_rows: dict[tuple, int] = {}
    for raw in parsed_rows:
        cells = raw.cells
        errors = [list(error) for error in raw.errors]
        row = {"row": raw.number, **cells, "customer_id": None, "errors": errors}
        term = cells[CUSTOMER]
        if not term:
            if not any(e[0] == CUSTOMER for e in errors):
                errors.append([CUSTOMER, "customer_required", {}])
        elif len(term) > CUSTOMER_MAX_LENGTH:
            errors.append([CUSTOMER, "customer_too_long", {"max": CUSTOMER_MAX_LENGTH}])
        elif len(customers.get(term, [])) > 1:
            errors.append([CUSTOMER, "customer_ambiguous", {"value": term}])
        elif not customers.get(term):
            errors.append([CUSTOMER, "customer_unknown", {"value": term}])
        else:
            customer = customers[term][0]
            row.update(
                customer_id=customer.pk,
                customer_name=customer.name,
                customer_username=customer.user.get_username(),
                customer_mobile=customer.mobile,
            )
        if not any(e[0] == AMOUNT for e in errors):
            amount, error = _amount(cells[AMOUNT])
            if error:
                errors.append([AMOUNT, *error])
            else:
                row[AMOUNT] = str(amount)
        method = methods.get(_fold(cells[METHOD]))
        if not cells[METHOD]:
            errors.append([METHOD, "method_required", {}])
        elif method is None:
            errors.append([METHOD, "method_unknown", {"value": cells[METHOD]}])
        else:
            row[METHOD] = method
        reference = payment_reference_normalize(cells[REFERENCE])
        row[REFERENCE] = reference or ""
        if reference and len(reference) > REFERENCE_MAX_LENGTH:
            errors.append([REFERENCE, "reference_too_long", {"max": REFERENCE_MAX_LENGTH}])
        elif reference and method:
            pair = (method, reference)
            if pair in seen_payments:
                errors.append(
                    [
                        REFERENCE,
                        "reference_in_file",
                        {"reference": reference, "method": method, "row": seen_payments[pair]},
                    ]
                )
            else:
                seen_payments[pair] = raw.number
        if len(cells[MEMO]) > MEMO_MAX_LENGTH:
            errors.append([MEMO, "memo_too_long", {"max": MEMO_MAX_LENGTH}])
        whole = tuple(cells[c] for c in (CUSTOMER, AMOUNT, REFERENCE, METHOD, MEMO))
        if whole in seen_rows and not reference:
            errors.append([CUSTOMER, "row_repeated", {"row": seen_rows[whole]}])
        seen_rows.setdefault(whole, raw.number)
        row["key"] = row_key(file_hash, raw.number)
        rows.append(row)
    _check_ledger(rows)
    return rows


def _check_ledger(rows: list[dict]) -> None:
    """Mark rows this file already recorded, and references another entry holds."""
    recorded = _recorded([row["key"] for row in rows])
    pairs = {
        (row[METHOD], row[REFERENCE])
        for row in rows
        if row[REFERENCE] and row[METHOD] in Entry.PaymentMethod.values
    }
    held = _ledger_references(pairs)
    for row in rows:
        row["recorded"] = recorded.get(row["key"])
        entry = held.get((row[METHOD], row[REFERENCE]))
        if entry is None or entry.pk == row["recorded"]:
            continue
        row["errors"].append(
            [
                REFERENCE,
                "reference_in_ledger",
                {
                    "reference": row[REFERENCE],
                    "method": row[METHOD],
                    "time": timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                    "customer": str(entry.account.customer),
                    "entry": entry.pk,
                },
            ]
        )


def _add_balances(rows: list[dict]) -> None:
    """Each row's customer balance before it and after it, in file order."""
    ids = sorted({row["customer_id"] for row in rows if row["customer_id"]})
    balances: dict[int, Decimal] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        accounts = Account.objects.using(PRIMARY).filter(
            customer_id__in=ids[start : start + LOOKUP_CHUNK]
        )
        balances.update(accounts.values_list("customer_id", "balance"))
    for row in rows:
        customer_id = row["customer_id"]
        if not customer_id:
            continue
        before = balances.get(customer_id, Decimal("0.00"))
        row["balance"] = str(before)
        amount_ok = not any(e[0] == AMOUNT for e in row["errors"])
        after = before + Decimal(row[AMOUNT]) if amount_ok and not row["recorded"] else before
        row["after"] = str(after)
        balances[customer_id] = after


def row_messages(row: dict) -> list[tuple[str, str]]:
    """A stored row's errors as (column title, message), in the current language."""
    shown = []
    labels = dict(Entry.PaymentMethod.choices)
    for column, code, params in row.get("errors", []):
        # The list of methods is written in the reader's language, not the uploader's.
        params = {**params, "choices": _method_choices()}
        if "method" in params:
            params["method"] = str(labels.get(params["method"], params["method"]))
        message = str(ROW_ERRORS.get(code, code))
        shown.append(
            (str(COLUMN_TITLES.get(column, column)), message % params if params else message)
        )
    return shown


# -- services ---------------------------------------------------------------------------------


def _require(user: AbstractBaseUser, permission: str, message) -> None:
    if not (user.is_active and user.is_staff and user.has_perm(permission)):
        raise BatchError(message)


def batch_preview(
    *, data: bytes, file_name: str, uploaded_by: AbstractBaseUser, encoding: str = "auto"
) -> RechargeBatch:
    """Read and check a file, and record it as a previewed batch. No money moves.

    BatchFileError when the file cannot be read (nothing recorded); BatchAlreadyUploaded when
    the same file is already applied or on its way (nothing recorded, the batch named).
    """
    _require(uploaded_by, permissions.RECHARGE, NOT_ALLOWED)
    parsed = batch_file_read(data=data, encoding=encoding)
    file_hash = hashlib.sha256(data).hexdigest()
    active = (Status.AWAITING_APPROVAL, Status.APPROVED, Status.APPLIED)
    earlier = (
        RechargeBatch.objects.using(PRIMARY)
        .filter(file_hash=file_hash, status__in=active)
        .order_by("-created_at")
        .first()
    )
    if earlier is not None:
        raise BatchAlreadyUploaded(
            ALREADY_UPLOADED,
            existing=earlier,
            time=timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M"),
            status=earlier.get_status_display(),
        )
    rows = _check_rows(parsed.rows, file_hash=file_hash, user=uploaded_by)
    _add_balances(rows)
    total = sum(
        (Decimal(r[AMOUNT]) for r in rows if not any(e[0] == AMOUNT for e in r["errors"])),
        Decimal("0.00"),
    )
    return RechargeBatch.objects.using(PRIMARY).create(
        file_name=file_name[:255],
        file_hash=file_hash,
        encoding=parsed.encoding,
        rows=rows,
        row_count=len(rows),
        error_count=sum(1 for r in rows if r["errors"]),
        total=total,
        uploaded_by=uploaded_by,
    )


def batch_needs_approval(batch: RechargeBatch) -> bool:
    """Whether the batch's total is above ``WALLET_BATCH_APPROVAL_THRESHOLD``."""
    return batch.total > settings.WALLET_BATCH_APPROVAL_THRESHOLD


def _locked(batch_id: int) -> RechargeBatch:
    return RechargeBatch.objects.using(PRIMARY).select_for_update().get(pk=batch_id)


def _move(batch: RechargeBatch, status: str, **fields) -> None:
    """Compare-and-set along ``RechargeBatch.TRANSITIONS``; WRONG_STATUS otherwise."""
    if status not in RechargeBatch.TRANSITIONS[Status(batch.status)]:
        raise BatchError(WRONG_STATUS, status=batch.get_status_display())
    changed = (
        RechargeBatch.objects.using(PRIMARY)
        .filter(pk=batch.pk, status=batch.status)
        .update(status=status, **fields)
    )
    if changed != 1:
        raise BatchError(WRONG_STATUS, status=batch.get_status_display())
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.status = status


def _apply(batch: RechargeBatch, actor: AbstractBaseUser) -> dict:
    """One recharge per row, in customer order (the order every batch locks accounts in)."""
    created = replayed = 0
    entries = {}
    with translation.override(settings.LANGUAGE_CODE):
        default_memo = str(DEFAULT_MEMO)
    for row in sorted(batch.rows, key=lambda r: (r["customer_id"], r["row"])):
        memo = row[MEMO] or default_memo % {"batch": batch.pk, "row": row["row"]}
        try:
            entry = wallet_recharge(
                customer_id=row["customer_id"],
                amount=row[AMOUNT],
                created_by=actor,
                idempotency_key=row["key"],
                memo=memo,
                payment_method=row[METHOD],
                payment_reference=row[REFERENCE] or None,
            )
        except WalletError as exc:
            raise BatchApplyFailed(
                APPLY_FAILED, row=row["row"], customer=row[CUSTOMER], reason=exc.message
            ) from exc
        replayed += entry.replayed
        created += not entry.replayed
        entries[str(row["row"])] = [entry.pk, str(entry.balance_after), entry.replayed]
    return {"created": created, "replayed": replayed, "entries": entries}


def _in_transaction(batch_id: int, work):
    """Run ``work(locked batch)`` in one transaction; again after a deadlock when we own it.

    A refused row rolls everything back and is recorded on the batch (``result["error"]``).
    """
    owns = not transaction.get_connection(PRIMARY).in_atomic_block
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic(using=PRIMARY):
                return work(_locked(batch_id))
        except BatchApplyFailed as exc:
            RechargeBatch.objects.using(PRIMARY).filter(pk=batch_id).update(
                result={"error": exc.message, "at": timezone.now().isoformat()}
            )
            raise
        except OperationalError as exc:
            if not (owns and _is_deadlock(exc)):
                raise
            if attempt == DEADLOCK_RETRIES:
                raise BatchError(BUSY) from exc
            logger.warning("wallet: deadlock applying batch %s, retry %d", batch_id, attempt)
            time.sleep(random.uniform(0.01, 0.1) * attempt)
    raise AssertionError("unreachable")


def batch_confirm(*, batch_id: int, actor: AbstractBaseUser) -> RechargeBatch:
    """Apply a previewed batch (or send it for approval when its total is above the threshold)."""
    _require(actor, permissions.RECHARGE, NOT_ALLOWED)

    def work(batch: RechargeBatch) -> RechargeBatch:
        if batch.status != Status.PREVIEWED:
            raise BatchError(WRONG_STATUS, status=batch.get_status_display())
        if batch.error_count:
            raise BatchError(HAS_ERRORS, count=batch.error_count)
        now = timezone.now()
        if batch_needs_approval(batch):
            _move(batch, Status.AWAITING_APPROVAL, confirmed_by=actor, confirmed_at=now)
            return batch
        result = _apply(batch, actor)
        _move(
            batch,
            Status.APPLIED,
            confirmed_by=actor,
            confirmed_at=now,
            applied_at=timezone.now(),
            result=result,
        )
        return batch

    return _in_transaction(batch_id, work)


def _may_approve(batch: RechargeBatch, actor: AbstractBaseUser) -> None:
    _require(actor, APPROVE, APPROVE_NOT_ALLOWED)
    if actor.pk in (batch.uploaded_by_id, batch.confirmed_by_id):
        raise BatchError(OWN_BATCH)


def batch_approve(*, batch_id: int, actor: AbstractBaseUser) -> RechargeBatch:
    """A second person's approval (recorded even if applying then fails), then apply."""
    _require(actor, APPROVE, APPROVE_NOT_ALLOWED)
    with transaction.atomic(using=PRIMARY):
        batch = _locked(batch_id)
        _may_approve(batch, actor)
        if batch.status != Status.AWAITING_APPROVAL:
            raise BatchError(WRONG_STATUS, status=batch.get_status_display())
        _move(batch, Status.APPROVED, approved_by=actor, approved_at=timezone.now())
    return batch_apply(batch_id=batch_id, actor=actor)


def batch_apply(*, batch_id: int, actor: AbstractBaseUser) -> RechargeBatch:
    """Apply an approved batch (after the approval, or again after a refused row was fixed)."""
    allowed = actor.has_perm(APPROVE) or actor.has_perm(permissions.RECHARGE)
    if not (actor.is_active and actor.is_staff and allowed):
        raise BatchError(NOT_ALLOWED)

    def work(batch: RechargeBatch) -> RechargeBatch:
        if batch.status != Status.APPROVED:
            raise BatchError(WRONG_STATUS, status=batch.get_status_display())
        result = _apply(batch, actor)
        _move(batch, Status.APPLIED, applied_at=timezone.now(), result=result)
        return batch

    return _in_transaction(batch_id, work)


def batch_reject(*, batch_id: int, actor: AbstractBaseUser, reason: str = "") -> RechargeBatch:
    """Withdraw (the uploader) or reject (an administrator) a batch not yet applied."""
    with transaction.atomic(using=PRIMARY):
        batch = _locked(batch_id)
        own = batch.uploaded_by_id == actor.pk and actor.has_perm(permissions.RECHARGE)
        if not (actor.is_active and actor.is_staff and (own or actor.has_perm(APPROVE))):
            raise BatchError(REJECT_NOT_ALLOWED)
        _move(
            batch,
            Status.REJECTED,
            rejected_by=actor,
            rejected_at=timezone.now(),
            reason=reason.strip()[:255],
        )
    return batch
