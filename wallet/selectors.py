"""Reads on accounts and the ledger."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from core.cache import shortcut
from customers.selectors import customer_related_scope
from wallet.models import Account, Entry, TopUpRequest

PRIMARY = "default"
LOOKUP_CHUNK = 1000  # values per IN list of the look-ups below
PENDING_COUNT_KEY = "wallet:topups-pending"
PENDING_COUNT_SECONDS = 60


def balance_of(*, customer_id: int) -> Decimal:
    """The current balance, read from the primary (money never trusts a replica)."""
    balance = (
        Account.objects.using("default")
        .filter(customer_id=customer_id)
        .values_list("balance", flat=True)
        .first()
    )
    return balance if balance is not None else Decimal("0.00")


def entries_by_key(keys: list[str]) -> dict[str, Entry]:
    """Idempotency key → the ledger entry holding it, for the keys already in the ledger
    (read from the primary, LOOKUP_CHUNK keys per query)."""
    unique = sorted(set(keys))
    found: dict[str, Entry] = {}
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        for entry in Entry.objects.using(PRIMARY).filter(idempotency_key__in=chunk):
            found[entry.idempotency_key] = entry
    return found


def entries_by_payment(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Entry]:
    """(method, reference) → the ledger entry already holding that payment, with its customer
    (read from the primary, LOOKUP_CHUNK references per query)."""
    references = sorted({reference for _method, reference in pairs})
    held: dict[tuple[str, str], Entry] = {}
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


def entries_of(*, customer_id: int) -> QuerySet[Entry]:
    """A customer's ledger, newest first."""
    return Entry.objects.filter(account__customer_id=customer_id).select_related("created_by")


def topups_pending_count(user: AbstractBaseUser | None = None) -> int:
    """Top-up requests waiting for finance (the queue's title, the menu, the dashboard); with a
    user, only those of the customers that user may see (``customers.selectors``' rule)."""
    pending = TopUpRequest.objects.filter(status=TopUpRequest.Status.PENDING)
    if user is not None:
        return customer_related_scope(pending, user).count()
    # The menu badge is drawn on every admin page (three times per page by jazzmin): counted
    # once, kept until a request is submitted or decided (topups_pending_changed).
    count = shortcut("get", PENDING_COUNT_KEY)
    if count is None:
        count = pending.count()
        shortcut("set", PENDING_COUNT_KEY, count, PENDING_COUNT_SECONDS)
    return count


def topups_pending_changed() -> None:
    """Forget the cached pending count once the write that changed it commits."""
    transaction.on_commit(lambda: shortcut("delete", PENDING_COUNT_KEY), using=PRIMARY)
