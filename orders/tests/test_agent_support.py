"""Shared helpers for the agent tests (no tests here)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from customers.tests.factories import LevelFactory, make_customer
from orders.fulfilment import locmem
from orders.services import order_place
from orders.tests.factories import ServiceFactory
from wallet.models import Account, Entry
from wallet.selectors import balance_of
from wallet.services import wallet_recharge


@pytest.fixture(autouse=True)
def _fresh_locmem():
    locmem.reset()
    yield
    locmem.reset()


def funded_customer(*, balance="1000.00", percent=100):
    customer = make_customer(level=LevelFactory(discount_percent=percent))
    wallet_recharge(
        customer_id=customer.pk,
        amount=balance,
        created_by=None,
        idempotency_key=f"seed:{customer.pk}",
        memo="test",
    )
    return customer


def place(customer, service=None, quantity=10, **kwargs):
    service = service or ServiceFactory(tiers=[(1, "1.00")])
    return order_place(
        customer=customer,
        service=service,
        target="https://example.cn/a",
        quantity=quantity,
        **kwargs,
    )


def assert_money_right(customer, expected_balance) -> None:
    """The balance is what the test expects, equals its ledger, and the audit is clean."""
    balance = balance_of(customer_id=customer.pk)
    assert balance == Decimal(expected_balance)
    total = Entry.objects.filter(account__customer=customer).aggregate(s=Sum("amount"))["s"]
    assert Account.objects.get(customer=customer).balance == total
    call_command("wallet_audit", verbosity=0)  # raises CommandError on any drift


def finished_line(count: int) -> str:
    """The start of run_agent's summary line for ``count`` finished orders, as shown."""
    from django.utils.translation import gettext

    from orders.agent.runner import SUMMARY

    return gettext(SUMMARY).split("%(seconds)")[0] % {"finished": count}
