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

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, transaction

from wallet.exceptions import (
    IDEMPOTENCY_CONFLICT,
    INSUFFICIENT_FUNDS,
    MEMO_REQUIRED,
    REFUND_EXCEEDS_DEBIT,
    REFUND_WITHOUT_DEBIT,
    IdempotencyConflict,
    InsufficientFunds,
    MemoRequired,
    RefundNotAllowed,
)
from wallet.models import Account, Entry
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
