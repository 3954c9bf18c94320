"""Batch recharge from a file (批量充值): preview, confirm, approve, apply, reject.

Upload → ``batch_preview`` reads the file (``wallet.batch_files``), checks every row by the
single recharge's rules (``parse_amount``, ``payment_reference_normalize``, a reference unique
per method in the ledger and in the file) and records a ``RechargeBatch`` with each row, its
customer's balance now and after, and its errors. Nothing moves money yet.

``batch_confirm`` applies a batch without errors — or, when its total is above
``WALLET_BATCH_APPROVAL_THRESHOLD``, sends it for approval by a second person holding
``wallet.approve_rechargebatch`` (the 管理员 role), who is neither the uploader nor the one who
confirmed; ``batch_approve`` records the approval and applies it.

Applying writes one ledger entry per row through ``wallet_recharge_many`` (the single
recharge's rules and keys, in bulk), all inside one transaction on the locked batch row: any
refusal rolls every row back, and the batch stays as it was with the reason in ``result``.
Each row's idempotency key is ``batch:<SHA-256 of the file>:<row>``: a second confirm, a
second batch of the same file, or a race of both, writes nothing twice (the service replays a
known key).
"""

import hashlib
import logging
import random
import threading
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, OperationalError, close_old_connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from wallet import permissions
from wallet.batch_files import AMOUNT, CUSTOMER, MEMO, METHOD, REFERENCE, batch_file_read
from wallet.batch_rows import rows_add_balances, rows_check
from wallet.exceptions import LineRefused, WalletError
from wallet.models import RechargeBatch
from wallet.services import PRIMARY, RechargeLine, _is_deadlock, wallet_recharge_many

APPROVE = "wallet.approve_rechargebatch"
Status = RechargeBatch.Status
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


class BatchError(WalletError):
    """A batch cannot be uploaded, confirmed, approved, applied or rejected as asked."""


class BatchAlreadyUploaded(BatchError):
    """The same file is already a batch that is applied or on its way to be."""

    def __init__(self, message, *, existing: RechargeBatch, **params):
        self.batch = existing
        super().__init__(message, batch=existing.pk, **params)


class BatchApplyFailed(BatchError):
    """A row was refused while applying; everything was rolled back."""


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
    rows = rows_check(parsed.rows, file_hash=file_hash, user=uploaded_by)
    rows_add_balances(rows)
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
    """Every row through ``wallet_recharge_many`` in the caller's transaction, in customer
    order (the order every batch locks accounts in): all rows or, at a refused one, none."""
    with translation.override(settings.LANGUAGE_CODE):
        default_memo = str(DEFAULT_MEMO)
    rows = sorted(batch.rows, key=lambda r: (r["customer_id"], r["row"]))
    lines = [
        RechargeLine(
            customer_id=row["customer_id"],
            amount=row[AMOUNT],
            idempotency_key=row["key"],
            memo=row[MEMO] or default_memo % {"batch": batch.pk, "row": row["row"]},
            payment_method=row[METHOD],
            payment_reference=row[REFERENCE] or None,
        )
        for row in rows
    ]
    try:
        written = wallet_recharge_many(lines=lines, created_by=actor)
    except LineRefused as exc:
        row = rows[exc.index]
        raise BatchApplyFailed(
            APPLY_FAILED, row=row["row"], customer=row[CUSTOMER], reason=exc.message
        ) from exc
    replayed = sum(entry.replayed for entry in written)
    entries = {
        str(row["row"]): [entry.pk, str(entry.balance_after), entry.replayed]
        for row, entry in zip(rows, written, strict=True)
    }
    return {"created": len(written) - replayed, "replayed": replayed, "entries": entries}


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


def _apply_now_or_queue(batch: RechargeBatch, actor: AbstractBaseUser, **fields) -> None:
    """Apply a small batch in this transaction; queue a large one for the agent process."""
    if batch.row_count > settings.WALLET_BATCH_SYNC_ROWS:
        _move(batch, Status.QUEUED, result={}, **fields)
        return
    result = _apply(batch, actor)
    _move(batch, Status.APPLIED, applied_at=timezone.now(), result=result, **fields)


def batch_confirm(*, batch_id: int, actor: AbstractBaseUser) -> RechargeBatch:
    """Apply a previewed batch, or send it for approval when its total is above the threshold.

    Above ``WALLET_BATCH_SYNC_ROWS`` rows the batch is queued and the agent applies it.
    """
    _require(actor, permissions.RECHARGE, NOT_ALLOWED)

    def work(batch: RechargeBatch) -> RechargeBatch:
        if batch.status != Status.PREVIEWED:
            raise BatchError(WRONG_STATUS, status=batch.get_status_display())
        if batch.error_count:
            raise BatchError(HAS_ERRORS, count=batch.error_count)
        now = timezone.now()
        if batch_needs_approval(batch):
            _move(batch, Status.AWAITING_APPROVAL, confirmed_by=actor, confirmed_at=now)
        else:
            _apply_now_or_queue(batch, actor, confirmed_by=actor, confirmed_at=now)
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
        _apply_now_or_queue(batch, actor)
        return batch

    return _in_transaction(batch_id, work)


# -- the agent's side task: large batches ----------------------------------------------------


def batch_apply_next() -> RechargeBatch | None:
    """Apply the oldest queued batch no other agent is applying; None when none is waiting.

    The batch row stays locked (FOR UPDATE SKIP LOCKED) until the rows and the new status
    commit together, so a crashed agent leaves it queued for the next one, never half applied.
    A refused row undoes the rows only (a savepoint): the batch goes back to previewed (or
    approved) with the reason, in the same transaction.
    """
    with transaction.atomic(using=PRIMARY):
        batch = (
            RechargeBatch.objects.using(PRIMARY)
            .select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED)
            .order_by("id")
            .first()
        )
        if batch is None:
            return None
        actor = batch.approved_by or batch.confirmed_by
        try:
            with transaction.atomic(using=PRIMARY), translation.override(settings.LANGUAGE_CODE):
                result = _apply(batch, actor)
        except BatchApplyFailed as exc:
            back = Status.APPROVED if batch.approved_by_id else Status.PREVIEWED
            _move(batch, back, result={"error": exc.message, "at": timezone.now().isoformat()})
            logger.warning("wallet: batch %s refused: %s", batch.pk, exc.message)
            return batch
        _move(batch, Status.APPLIED, applied_at=timezone.now(), result=result)
        logger.info("wallet: batch %s applied (%s rows)", batch.pk, batch.row_count)
        return batch


def batch_apply_side_task(stopping: threading.Event) -> None:
    """``settings.AGENT_SIDE_TASKS`` entry: apply queued batches until the agent stops."""
    while not stopping.is_set():
        try:
            while not stopping.is_set() and batch_apply_next() is not None:
                pass
        except DatabaseError:
            logger.exception("wallet: applying queued batches failed; retrying")
        close_old_connections()
        stopping.wait(settings.WALLET_BATCH_POLL_SECONDS)


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
