"""Reads on accounts and the ledger."""

from decimal import Decimal

from django.db.models import QuerySet

from wallet.models import Account, Entry


def balance_of(*, customer_id: int) -> Decimal:
    """The current balance, read from the primary (money never trusts a replica)."""
    balance = (
        Account.objects.using("default")
        .filter(customer_id=customer_id)
        .values_list("balance", flat=True)
        .first()
    )
    return balance if balance is not None else Decimal("0.00")


def entries_of(*, customer_id: int) -> QuerySet[Entry]:
    """A customer's ledger, newest first."""
    return Entry.objects.filter(account__customer_id=customer_id).select_related("created_by")
