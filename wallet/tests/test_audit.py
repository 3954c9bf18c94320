"""wallet_audit: clean ledgers pass; any drift is listed and exits 1; few queries at any size."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from customers.tests.factories import make_customer
from wallet.models import Account, Entry
from wallet.services import wallet_debit_order, wallet_deduct, wallet_recharge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English msgids; the Chinese output has its own test."""
    with translation.override("en"):
        yield


def _audit(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("wallet_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _busy_customers(n: int) -> list:
    customers = [make_customer() for _ in range(n)]
    for customer in customers:
        i = customer.pk
        wallet_recharge(
            customer_id=customer.pk, amount="50", created_by=None, idempotency_key=f"r{i}"
        )
        wallet_deduct(
            customer_id=customer.pk,
            amount="1.25",
            created_by=None,
            idempotency_key=f"d{i}",
            memo="m",
        )
        wallet_debit_order(customer_id=customer.pk, amount=Decimal("3.10"), order_number=f"N{i}")
    return customers


def test_a_clean_ledger_reconciles(db):
    _busy_customers(3)
    make_customer()  # an account with no entries and a zero balance is fine
    out, err = _audit("--chain")
    assert "all 4 accounts reconcile" in out
    assert "9 entries" in out and "136.95" in out
    assert err  # progress lines go to stderr


def test_a_drifted_balance_is_listed_and_exits_1(db):
    good, bad = _busy_customers(2)
    Account.objects.filter(customer=bad).update(balance=Decimal("1000.00"))
    with pytest.raises(CommandError) as failure:
        _audit()
    assert failure.value.returncode == 1
    assert "1 of 2 accounts drift" in str(failure.value)


def test_the_drift_lines_name_the_account_and_the_numbers(db):
    (bad,) = _busy_customers(1)
    Account.objects.filter(customer=bad).update(balance=Decimal("0.00"))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("wallet_audit", stdout=out, stderr=StringIO())
    line = out.getvalue()
    assert f"customer {bad}" in line and "45.65" in line and "balance != sum of entries" in line


def test_a_balance_without_entries_drifts(db):
    customer = make_customer()
    Account.objects.filter(customer=customer).update(balance=Decimal("5.00"))
    with pytest.raises(CommandError):
        _audit()


def test_a_broken_running_balance_is_found_by_the_chain_check(db):
    (customer,) = _busy_customers(1)
    middle = Entry.objects.filter(account__customer=customer).order_by("id")[1]
    with connection.cursor() as cursor:  # a tampered row: only raw SQL can do this
        cursor.execute(
            f"UPDATE {Entry._meta.db_table} SET balance_after = 1 WHERE id = %s", [middle.pk]
        )
    _audit()  # the three-way check still holds (sum and last entry are right) ...
    with pytest.raises(CommandError) as failure:
        _audit("--chain")  # ... but the chain does not
    assert "broken chain" in str(failure.value)


def test_the_audit_query_count_does_not_grow_with_accounts(db):
    _busy_customers(2)
    with CaptureQueriesContext(connection) as few:
        _audit("--chain")
    _busy_customers(6)
    with CaptureQueriesContext(connection) as many:
        _audit("--chain")
    assert len(many) == len(few) <= 6


def test_the_summary_is_in_chinese_by_default(db):
    _busy_customers(1)
    out = StringIO()
    with translation.override("zh-hans"):
        call_command("wallet_audit", stdout=out, stderr=StringIO())
    assert "全部 1 个账户核对一致" in out.getvalue()
