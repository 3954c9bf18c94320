"""Every movement of money. Each service runs in one transaction on the locked account row.

The money rules (DESIGN.md) hold here: the balance is checked *after* the row lock is taken,
every change writes exactly one ledger entry with the balance it left, the idempotency key is
unique in the database, and an order's refund uses the key ``refund:<order number>`` so an
order is refunded at most once whatever races happen.
"""

import hashlib
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from wallet.exceptions import (
    DUPLICATE_PAYMENT_REFERENCE,
    IDEMPOTENCY_CONFLICT,
    INSUFFICIENT_FUNDS,
    MEMO_REQUIRED,
    REFERENCE_NEEDS_METHOD,
    REFERENCE_REPEATED,
    REFERENCE_TOO_LONG,
    REFUND_EXCEEDS_DEBIT,
    REFUND_WITHOUT_DEBIT,
    TOPUP_DUPLICATE_REFERENCE,
    TOPUP_NOT_ALLOWED,
    TOPUP_NOT_PENDING,
    TOPUP_OWN_REQUEST,
    TOPUP_REASON_REQUIRED,
    TOPUP_UNKNOWN_METHOD,
    UNKNOWN_PAYMENT_METHOD,
    DuplicatePaymentReference,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidPayment,
    LineRefused,
    MemoRequired,
    RefundNotAllowed,
    TopUpError,
    WalletError,
)
from wallet.models import Account, Entry, TopUpRequest
from wallet.money import parse_amount
from wallet.selectors import entries_by_key, entries_by_payment, topups_pending_changed
from wallet.signals import balance_changed

PRIMARY = "default"  # money always reads and writes the primary, never a replica

# A deadlock (MySQL 1213, PostgreSQL 40P01) rolls the whole transaction back; when the service
# owns that transaction it simply runs it again. Nested in a caller's atomic block it cannot:
# the caller's work is gone too, so the error goes up to the owner of the transaction.
DEADLOCK_RETRIES = 4
MYSQL_DEADLOCK = 1213
POSTGRES_DEADLOCK = "40P01"

logger = logging.getLogger(__name__)


def debit_key(order_number: str) -> str:
    """The idempotency key of an order's one debit."""
    return f"debit:{order_number}"


def refund_key(order_number: str) -> str:
    """The idempotency key of an order's one refund (cancel, failure or partial)."""
    return f"refund:{order_number}"


REFERENCE_MAX_LENGTH = Entry._meta.get_field("payment_reference").max_length
_SPACES = re.compile(r"\s+")


def payment_reference_normalize(reference: str | None) -> str | None:
    """A payment reference as stored: no spaces anywhere, upper case; None when empty.

    Bank serial numbers are read aloud and copied in pieces ("2024 0101 88"); stored one way,
    the same payment typed twice is the same reference on every database and collation.
    """
    text = _SPACES.sub("", reference or "").upper()
    return text or None


def _payment(method: str, reference: str | None) -> tuple[str, str | None]:
    """The (method, reference) pair to store, or InvalidPayment."""
    method = (method or "").strip()
    reference = payment_reference_normalize(reference)
    if method and method not in Entry.PaymentMethod.values:
        raise InvalidPayment(UNKNOWN_PAYMENT_METHOD)
    if reference is not None:
        if not method:
            raise InvalidPayment(REFERENCE_NEEDS_METHOD)
        if len(reference) > REFERENCE_MAX_LENGTH:
            raise InvalidPayment(REFERENCE_TOO_LONG, max=REFERENCE_MAX_LENGTH)
    return method, reference


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def account_lock(*, customer_id: int) -> Account:
    """The customer's account, locked FOR UPDATE until the surrounding transaction ends.

    Creates the account on first use (customers imported in bulk have none yet).
    """
    accounts = Account.objects.using(PRIMARY).select_for_update()
    try:
        return accounts.get(customer_id=customer_id)
    except Account.DoesNotExist:
        Account.objects.using(PRIMARY).get_or_create(customer_id=customer_id)
        return accounts.get(customer_id=customer_id)


def _is_deadlock(exc: OperationalError) -> bool:
    cause = exc.__cause__
    code = exc.args[0] if exc.args else None
    return code == MYSQL_DEADLOCK or getattr(cause, "sqlstate", None) == POSTGRES_DEADLOCK


def _post(**kwargs) -> Entry:
    """``_post_once``, run again after a deadlock when this call owns the transaction."""
    owns_transaction = not transaction.get_connection(PRIMARY).in_atomic_block
    attempt = 0
    while True:
        try:
            return _post_once(**kwargs)
        except OperationalError as exc:
            attempt += 1
            if not (owns_transaction and _is_deadlock(exc) and attempt < DEADLOCK_RETRIES):
                raise
            logger.warning("wallet: deadlock on %s, retry %d", kwargs["idempotency_key"], attempt)
            time.sleep(random.uniform(0.005, 0.05) * attempt)


def _check_refund(account: Account, amount: Decimal, order_number: str) -> None:
    """A refund needs the order's debit on this account and may not give back more than it."""
    debit = (
        Entry.objects.using(PRIMARY)
        .filter(idempotency_key=debit_key(order_number), account=account)
        .values_list("amount", flat=True)
        .first()
    )
    if debit is None:
        raise RefundNotAllowed(REFUND_WITHOUT_DEBIT, number=order_number)
    if amount > -debit:
        raise RefundNotAllowed(REFUND_EXCEEDS_DEBIT, amount=amount, debit=-debit)


def _post_once(
    *,
    customer_id: int,
    kind: Entry.Kind,
    amount: Decimal,
    idempotency_key: str,
    created_by: AbstractBaseUser | None,
    memo: str,
    order_number: str = "",
    payment_method: str = "",
    payment_reference: str | None = None,
) -> Entry:
    """Lock, check, write the balance and its entry; replay a repeated key instead.

    ``amount`` is positive; the kind gives the sign. A payment reference already in the
    ledger (same method) is refused by the unique index, which holds under any concurrency.
    """
    signed = amount if kind in Entry.CREDIT_KINDS else -amount
    # The payment is part of what was asked only when given, so keys of older entries replay.
    payment = (payment_method, payment_reference) if payment_method or payment_reference else ()
    fingerprint = _fingerprint(customer_id, kind, signed, order_number, *payment)
    try:
        with transaction.atomic(using=PRIMARY):
            account = account_lock(customer_id=customer_id)
            # Checked under the lock: a concurrent request with the same key has committed or
            # waits behind us.
            existing = Entry.objects.using(PRIMARY).filter(idempotency_key=idempotency_key)
            if entry := existing.first():
                return _replay(entry, fingerprint)
            if kind in (Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND):
                _check_refund(account, amount, order_number)
            return _write(
                account,
                kind=kind,
                signed=signed,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                created_by=created_by,
                memo=memo,
                order_number=order_number,
                payment_method=payment_method,
                payment_reference=payment_reference,
            )
    except IntegrityError:
        # Another transaction committed first with the same key (unique index): replay or
        # refuse; or with the same payment reference (unique index): name the earlier entry.
        entry = Entry.objects.using(PRIMARY).filter(idempotency_key=idempotency_key).first()
        if entry is not None:
            return _replay(entry, fingerprint)
        if payment_reference is not None:
            _refuse_duplicate_payment(payment_method, payment_reference)
        raise


def _write(
    account: Account,
    *,
    kind: Entry.Kind,
    signed: Decimal,
    idempotency_key: str,
    fingerprint: str,
    created_by: AbstractBaseUser | None,
    memo: str,
    order_number: str = "",
    payment_method: str = "",
    payment_reference: str | None = None,
) -> Entry:
    """On the account locked by this transaction: check, write the balance and its entry, and
    send ``balance_changed``. Two statements (UPDATE, INSERT); ``account.balance`` follows.
    """
    new_balance = account.balance + signed
    if new_balance < 0:
        raise InsufficientFunds(INSUFFICIENT_FUNDS, balance=account.balance, amount=abs(signed))
    updated = (
        Account.objects.using(PRIMARY)
        .filter(pk=account.pk, balance=account.balance)
        .update(balance=new_balance)
    )
    if updated != 1:  # impossible under the lock; refuse rather than guess
        raise IntegrityError("account balance changed under a row lock")
    entry = Entry.objects.using(PRIMARY).create(
        account=account,
        kind=kind,
        amount=signed,
        balance_after=new_balance,
        order_number=order_number,
        created_by=created_by,
        memo=memo,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        payment_method=payment_method,
        payment_reference=payment_reference,
    )
    entry.replayed = False
    before, account.balance = account.balance, new_balance
    balance_changed.send(
        sender=Account, account=account, before=before, after=new_balance, entry=entry
    )
    return entry


def _refuse_duplicate_payment(method: str, reference: str) -> None:
    """Raise DuplicatePaymentReference naming the entry that holds the reference, if any."""
    earlier = (
        Entry.objects.using(PRIMARY)
        .filter(payment_method=method, payment_reference=reference)
        .select_related("account__customer__user")
        .first()
    )
    if earlier is None:
        return
    raise DuplicatePaymentReference(
        DUPLICATE_PAYMENT_REFERENCE,
        reference=reference,
        method=earlier.get_payment_method_display(),
        time=timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M"),
        customer=earlier.account.customer,
        entry=earlier.pk,
    )


def _replay(entry: Entry, fingerprint: str) -> Entry:
    if entry.request_fingerprint != fingerprint:
        raise IdempotencyConflict(IDEMPOTENCY_CONFLICT)
    entry.replayed = True  # not a field: tells the caller nothing new was written
    return entry


def wallet_recharge(
    *,
    customer_id: int,
    amount: str | Decimal,
    created_by: AbstractBaseUser | None,
    idempotency_key: str,
    memo: str = "",
    payment_method: str = "",
    payment_reference: str | None = None,
) -> Entry:
    """Staff add prepaid money (充值), naming how it was paid (method and its reference).

    A reference already entered for the same method is refused (DuplicatePaymentReference).
    """
    amount = parse_amount(amount)
    method, reference = _payment(payment_method, payment_reference)
    return _post(
        customer_id=customer_id,
        kind=Entry.Kind.RECHARGE,
        amount=amount,
        idempotency_key=idempotency_key,
        created_by=created_by,
        memo=memo.strip(),
        payment_method=method,
        payment_reference=reference,
    )


@dataclass(frozen=True)
class RechargeLine:
    """One recharge of ``wallet_recharge_many``: what ``wallet_recharge`` takes for one call."""

    customer_id: int
    amount: str | Decimal
    idempotency_key: str
    memo: str = ""
    payment_method: str = ""
    payment_reference: str | None = None


BULK_CHUNK = 1000  # accounts locked per statement and rows per INSERT


def wallet_recharge_many(
    *, lines: Sequence[RechargeLine], created_by: AbstractBaseUser | None
) -> list[Entry]:
    """Many recharges in the caller's transaction, all or none (批量充值): the same rules,
    keys and entries as ``wallet_recharge`` once per line, in a few statements per thousand
    lines instead of six per line — so a 5,000-row batch holds its accounts for about a second,
    not a minute.

    Every account is locked first (``SELECT … FOR UPDATE`` in customer order, the order every
    bulk movement locks in); a key already in the ledger replays its entry (or raises
    IdempotencyConflict when it was used for something else); new entries are inserted in line
    order, so each account's ``balance_after`` chain follows the entry ids; each account's
    balance is then written once, guarded by its locked value. ``balance_changed`` is sent once
    per account, from the balance before the first line to the one after the last (recharges
    only raise a balance, so no crossing is lost). A refused line raises ``LineRefused`` with
    its index; the caller's transaction must then roll back (``transaction.atomic`` does).
    Must run inside a transaction.
    """
    if not transaction.get_connection(PRIMARY).in_atomic_block:
        raise TransactionManagementError("wallet_recharge_many runs in the caller's transaction")
    kind = Entry.Kind.RECHARGE
    planned = []
    for index, line in enumerate(lines):
        try:
            amount = parse_amount(line.amount)
            method, reference = _payment(line.payment_method, line.payment_reference)
        except WalletError as exc:
            raise LineRefused(exc, index=index) from exc
        payment = (method, reference) if method or reference else ()
        fingerprint = _fingerprint(line.customer_id, kind, amount, "", *payment)
        planned.append((index, line, amount, method, reference, fingerprint))
    accounts = _accounts_lock_many(sorted({line.customer_id for line in lines}))
    existing = entries_by_key([line.idempotency_key for line in lines])
    taken = entries_by_payment({(p[3], p[4]) for p in planned if p[4] is not None})
    before = {customer_id: account.balance for customer_id, account in accounts.items()}
    entries: list[Entry | None] = [None] * len(planned)
    new: list[tuple[int, Entry]] = []
    seen: dict[str, str] = {}
    references_here: set[tuple[str, str]] = set()
    for index, line, amount, method, reference, fingerprint in planned:
        key = line.idempotency_key
        earlier = existing.get(key)
        if earlier is None and key in seen:  # the same key twice in these lines
            if seen[key] != fingerprint:
                raise LineRefused(IdempotencyConflict(IDEMPOTENCY_CONFLICT), index=index)
            continue  # filled in below from the line that writes it
        try:
            if earlier is not None:
                entries[index] = _replay(earlier, fingerprint)
                continue
            if reference is not None:
                if (method, reference) in taken:  # names the ledger's entry
                    _refuse_duplicate_payment(method, reference)
                if (method, reference) in references_here:
                    raise DuplicatePaymentReference(REFERENCE_REPEATED, reference=reference)
                references_here.add((method, reference))
        except WalletError as exc:
            raise LineRefused(exc, index=index) from exc
        seen[key] = fingerprint
        account = accounts[line.customer_id]
        account.balance += amount
        entry = Entry(
            account=account,
            kind=kind,
            amount=amount,
            balance_after=account.balance,
            created_by=created_by,
            memo=line.memo.strip(),
            idempotency_key=key,
            request_fingerprint=fingerprint,
            payment_method=method,
            payment_reference=reference,
        )
        entry.replayed = False
        new.append((index, entry))
        entries[index] = entry
    try:
        with transaction.atomic(using=PRIMARY):  # a savepoint: name the line, then roll back
            Entry.objects.using(PRIMARY).bulk_create([e for _i, e in new], batch_size=BULK_CHUNK)
    except IntegrityError as exc:
        # A reference or key committed by someone else since it was checked above.
        for index, entry in new:
            if entry.payment_reference is not None:
                try:
                    _refuse_duplicate_payment(entry.payment_method, entry.payment_reference)
                except WalletError as refusal:
                    raise LineRefused(refusal, index=index) from exc
        raise
    if any(entry.pk is None for _i, entry in new):  # a database without RETURNING on insert
        ids = entries_by_key([entry.idempotency_key for _i, entry in new])
        for _i, entry in new:
            entry.pk = ids[entry.idempotency_key].pk
    by_key = {entry.idempotency_key: entry for _i, entry in new}
    entries = [entry or by_key[lines[i].idempotency_key] for i, entry in enumerate(entries)]
    last = {entry.account.customer_id: entry for _i, entry in new}
    for customer_id, entry in last.items():
        account = accounts[customer_id]
        updated = (
            Account.objects.using(PRIMARY)
            .filter(pk=account.pk, balance=before[customer_id])
            .update(balance=account.balance)
        )
        if updated != 1:  # impossible under the lock; refuse rather than guess
            raise IntegrityError("account balance changed under a row lock")
        balance_changed.send(
            sender=Account,
            account=account,
            before=before[customer_id],
            after=account.balance,
            entry=entry,
        )
    return entries


def _accounts_lock_many(customer_ids: list[int]) -> dict[int, Account]:
    """The customers' accounts, created where missing, locked FOR UPDATE in customer order."""
    accounts: dict[int, Account] = {}
    for start in range(0, len(customer_ids), BULK_CHUNK):
        chunk = customer_ids[start : start + BULK_CHUNK]
        locking = Account.objects.using(PRIMARY).select_for_update().order_by("customer_id")
        found = {a.customer_id: a for a in locking.filter(customer_id__in=chunk)}
        missing = [pk for pk in chunk if pk not in found]
        if missing:  # customers imported in bulk have no account yet
            Account.objects.using(PRIMARY).bulk_create(
                [Account(customer_id=pk) for pk in missing], ignore_conflicts=True
            )
            found.update({a.customer_id: a for a in locking.filter(customer_id__in=missing)})
        accounts.update(found)
    return accounts


def wallet_deduct(
    *,
    customer_id: int,
    amount: str | Decimal,
    created_by: AbstractBaseUser | None,
    idempotency_key: str,
    memo: str,
    payment_method: str = "",
    payment_reference: str | None = None,
) -> Entry:
    """Staff take money back (扣款); a memo is required, a payment (a payout) is optional."""
    amount = parse_amount(amount)
    if not memo or not memo.strip():
        raise MemoRequired(MEMO_REQUIRED)
    method, reference = _payment(payment_method, payment_reference)
    return _post(
        customer_id=customer_id,
        kind=Entry.Kind.DEDUCT,
        amount=amount,
        idempotency_key=idempotency_key,
        created_by=created_by,
        memo=memo.strip(),
        payment_method=method,
        payment_reference=reference,
    )


def wallet_debit_order(
    *,
    customer_id: int,
    amount: Decimal,
    order_number: str,
    created_by: AbstractBaseUser | None = None,
    memo: str = "",
) -> Entry:
    """Pay for an order (创建订单); at most once per order by its key."""
    return _post(
        customer_id=customer_id,
        kind=Entry.Kind.ORDER_DEBIT,
        amount=parse_amount(amount),
        idempotency_key=debit_key(order_number),
        created_by=created_by,
        memo=memo,
        order_number=order_number,
    )


def wallet_debit_order_locked(
    *,
    account: Account,
    amount: Decimal,
    order_number: str,
    created_by: AbstractBaseUser | None = None,
    memo: str = "",
) -> Entry:
    """Pay for an order on an account the caller's transaction has already locked FOR UPDATE
    (``order_place``): no second lock, no savepoint, no pre-read of the key.

    The entry's unique key (``debit:<order number>``) is relied on instead: a repeated debit
    raises IntegrityError, which breaks the caller's transaction; its owner rolls back and
    replays (an order number is unique, so this only happens if the order insert was skipped).
    The balance check, the entry and ``balance_changed`` are those of every other movement.
    """
    if not transaction.get_connection(PRIMARY).in_atomic_block:
        raise transaction.TransactionManagementError("the account must be locked by the caller")
    amount = parse_amount(amount)
    signed = -amount
    return _write(
        account,
        kind=Entry.Kind.ORDER_DEBIT,
        signed=signed,
        idempotency_key=debit_key(order_number),
        fingerprint=_fingerprint(account.customer_id, Entry.Kind.ORDER_DEBIT, signed, order_number),
        created_by=created_by,
        memo=memo,
        order_number=order_number,
    )


def wallet_refund_order(
    *,
    customer_id: int,
    amount: Decimal,
    order_number: str,
    kind: Entry.Kind = Entry.Kind.REFUND,
    created_by: AbstractBaseUser | None = None,
    memo: str = "",
) -> Entry:
    """Give an order's money back (撤单 or 退款); at most once per order by its key.

    Refused unless the order was debited from this customer, and never more than the debit.
    """
    if kind not in (Entry.Kind.CANCEL_REFUND, Entry.Kind.REFUND):
        raise ValueError(f"not a refund kind: {kind}")
    return _post(
        customer_id=customer_id,
        kind=kind,
        amount=parse_amount(amount),
        idempotency_key=refund_key(order_number),
        created_by=created_by,
        memo=memo,
        order_number=order_number,
    )


# --- top-up requests (充值申请) -------------------------------------------------------------------

APPROVE_TOPUP = "wallet.approve_topuprequest"
TOPUP_SMS = {
    "approved": _(
        "Your top-up request of ¥%(amount)s was approved; your balance is now ¥%(balance)s."
    ),
    "rejected": _("Your top-up request of ¥%(amount)s was rejected: %(reason)s"),
}


def topup_key(request_id: int) -> str:
    """The idempotency key of the one recharge a top-up request may produce."""
    return f"topup:{request_id}"


def topup_methods() -> dict[str, str]:
    """The payment methods customers may choose, code → label (settings.WALLET_TOPUP_METHODS)."""
    return {code: str(label) for code, label in settings.WALLET_TOPUP_METHODS}


def topup_request_submit(
    *,
    customer_id: int,
    submitted_by: AbstractBaseUser,
    amount: str | Decimal,
    method: str,
    payer: str,
    reference: str,
    proof=None,
) -> TopUpRequest:
    """A customer asks for a transfer they made to be credited. Nothing moves money yet."""
    amount = parse_amount(amount)
    if method not in topup_methods():
        raise TopUpError(TOPUP_UNKNOWN_METHOD)
    reference = reference.strip()
    if TopUpRequest.objects.filter(customer_id=customer_id, reference=reference).exists():
        raise TopUpError(TOPUP_DUPLICATE_REFERENCE)
    request = TopUpRequest(
        customer_id=customer_id,
        submitted_by=submitted_by,
        amount=amount,
        method=method,
        payer=payer.strip(),
        reference=reference,
    )
    try:
        with transaction.atomic(using=PRIMARY):
            if proof is not None:
                request.proof.save(proof.name, proof, save=False)
            request.save(using=PRIMARY)
            topups_pending_changed()
    except IntegrityError as exc:  # two submits of one reference at the same moment
        if request.proof:
            request.proof.delete(save=False)
        raise TopUpError(TOPUP_DUPLICATE_REFERENCE) from exc
    return request


def _decidable(*, request_id: int, actor: AbstractBaseUser) -> TopUpRequest:
    """The request, locked FOR UPDATE, after checking the actor may decide it."""
    if not actor.has_perm(APPROVE_TOPUP):
        raise TopUpError(TOPUP_NOT_ALLOWED)
    request = TopUpRequest.objects.using(PRIMARY).select_for_update().get(pk=request_id)
    if request.submitted_by_id == actor.pk:
        raise TopUpError(TOPUP_OWN_REQUEST)
    return request


def _decide(request: TopUpRequest, *, status: str, actor, reason: str, entry=None) -> None:
    """Compare-and-set: only a pending request changes, whatever else happened meanwhile."""
    changed = (
        TopUpRequest.objects.using(PRIMARY)
        .filter(pk=request.pk, status=TopUpRequest.Status.PENDING)
        .update(
            status=status, decided_by=actor, decided_at=timezone.now(), reason=reason, entry=entry
        )
    )
    if not changed:
        raise TopUpError(TOPUP_NOT_PENDING, status=TopUpRequest.Status(request.status).label)
    topups_pending_changed()
    request.refresh_from_db(using=PRIMARY)


def _notify_after_commit(request: TopUpRequest) -> None:
    """Tell the customer by SMS once the decision is committed; a failed SMS changes nothing."""

    def send() -> None:
        mobile = request.customer.mobile
        if not mobile:
            return
        balance = Account.objects.using(PRIMARY).get(customer_id=request.customer_id).balance
        with translation.override(settings.LANGUAGE_CODE):
            body = str(TOPUP_SMS[request.status]) % {
                "amount": request.amount,
                "balance": balance,
                "reason": request.reason,
            }
        message = sms.Message(body, getattr(settings, "PORTAL_SMS_ORIGINATOR", None), [mobile])
        message.template_params = [str(request.amount), request.status]
        try:
            message.send(fail_silently=False)
        except Exception:  # noqa: BLE001 - the decision stands; the customer sees it in the portal
            logger.exception("Top-up request %s: SMS not sent", request.pk)

    transaction.on_commit(send, using=PRIMARY)


def topup_request_approve(*, request_id: int, actor: AbstractBaseUser) -> TopUpRequest:
    """Approve: recharge the amount (key ``topup:<id>``) and mark the request, in one
    transaction on the locked request row. Approving twice recharges once and says so.
    """
    with transaction.atomic(using=PRIMARY):
        request = _decidable(request_id=request_id, actor=actor)
        if request.status != TopUpRequest.Status.PENDING:
            raise TopUpError(TOPUP_NOT_PENDING, status=TopUpRequest.Status(request.status).label)
        entry = wallet_recharge(
            customer_id=request.customer_id,
            amount=request.amount,
            created_by=actor,
            idempotency_key=topup_key(request.pk),
            memo=f"{topup_methods().get(request.method, request.method)} {request.reference}",
            # The customer's transfer is the payment: the same reference entered by staff for
            # the same method (or approved from another request) is refused, not paid twice.
            payment_method=request.method,
            payment_reference=request.reference,
        )
        _decide(request, status=TopUpRequest.Status.APPROVED, actor=actor, reason="", entry=entry)
        _notify_after_commit(request)
    return request


def topup_request_reject(*, request_id: int, actor: AbstractBaseUser, reason: str) -> TopUpRequest:
    """Reject with a reason the customer reads. No money moves."""
    reason = reason.strip()
    if not reason:
        raise TopUpError(TOPUP_REASON_REQUIRED)
    with transaction.atomic(using=PRIMARY):
        request = _decidable(request_id=request_id, actor=actor)
        _decide(request, status=TopUpRequest.Status.REJECTED, actor=actor, reason=reason[:255])
        _notify_after_commit(request)
    return request
