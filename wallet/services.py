"""Every movement of money. Each service runs in one transaction on the locked account row.

The money rules (DESIGN.md) hold here: the balance is checked *after* the row lock is taken,
every change writes exactly one ledger entry with the balance it left, the idempotency key is
unique in the database, and an order's refund uses the key ``refund:<order number>`` so an
order is refunded at most once whatever races happen.
"""

import hashlib
import logging
import random
import time
from decimal import Decimal

import sms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from wallet.exceptions import (
    IDEMPOTENCY_CONFLICT,
    INSUFFICIENT_FUNDS,
    MEMO_REQUIRED,
    REFUND_EXCEEDS_DEBIT,
    REFUND_WITHOUT_DEBIT,
    TOPUP_DUPLICATE_REFERENCE,
    TOPUP_NOT_ALLOWED,
    TOPUP_NOT_PENDING,
    TOPUP_OWN_REQUEST,
    TOPUP_REASON_REQUIRED,
    TOPUP_UNKNOWN_METHOD,
    IdempotencyConflict,
    InsufficientFunds,
    MemoRequired,
    RefundNotAllowed,
    TopUpError,
)
from wallet.models import Account, Entry, TopUpRequest
from wallet.money import parse_amount

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
) -> Entry:
    """Lock, check, write the balance and its entry; replay a repeated key instead.

    ``amount`` is positive; the kind gives the sign.
    """
    signed = amount if kind in Entry.CREDIT_KINDS else -amount
    fingerprint = _fingerprint(customer_id, kind, signed, order_number)
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
            new_balance = account.balance + signed
            if new_balance < 0:
                raise InsufficientFunds(INSUFFICIENT_FUNDS, balance=account.balance, amount=amount)
            updated = (
                Account.objects.using(PRIMARY)
                .filter(pk=account.pk, balance=account.balance)
                .update(balance=new_balance)
            )
            if updated != 1:  # impossible under the lock; refuse rather than guess
                raise IntegrityError("account balance changed under a row lock")
            return Entry.objects.using(PRIMARY).create(
                account=account,
                kind=kind,
                amount=signed,
                balance_after=new_balance,
                order_number=order_number,
                created_by=created_by,
                memo=memo,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
            )
    except IntegrityError:
        # The same key on another account committed first (unique index): replay or refuse.
        entry = Entry.objects.using(PRIMARY).filter(idempotency_key=idempotency_key).first()
        if entry is None:
            raise
        return _replay(entry, fingerprint)


def _replay(entry: Entry, fingerprint: str) -> Entry:
    if entry.request_fingerprint != fingerprint:
        raise IdempotencyConflict(IDEMPOTENCY_CONFLICT)
    return entry


def wallet_recharge(
    *,
    customer_id: int,
    amount: str | Decimal,
    created_by: AbstractBaseUser | None,
    idempotency_key: str,
    memo: str = "",
) -> Entry:
    """Staff add prepaid money (充值)."""
    return _post(
        customer_id=customer_id,
        kind=Entry.Kind.RECHARGE,
        amount=parse_amount(amount),
        idempotency_key=idempotency_key,
        created_by=created_by,
        memo=memo.strip(),
    )


def wallet_deduct(
    *,
    customer_id: int,
    amount: str | Decimal,
    created_by: AbstractBaseUser | None,
    idempotency_key: str,
    memo: str,
) -> Entry:
    """Staff take money back (扣款); a memo is required."""
    amount = parse_amount(amount)
    if not memo or not memo.strip():
        raise MemoRequired(MEMO_REQUIRED)
    return _post(
        customer_id=customer_id,
        kind=Entry.Kind.DEDUCT,
        amount=amount,
        idempotency_key=idempotency_key,
        created_by=created_by,
        memo=memo.strip(),
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
