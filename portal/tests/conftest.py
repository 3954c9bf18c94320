"""Portal fixtures: a customer with money, a service, a logged-in client."""

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.tests.factories import LevelFactory, StaffFactory, make_customer
from orders.tests.factories import ServiceFactory
from wallet.services import wallet_recharge


def recharge(customer, amount: str) -> None:
    """Give a customer money the way staff do."""
    wallet_recharge(
        customer_id=customer.pk,
        amount=Decimal(amount),
        created_by=None,
        idempotency_key=f"test-recharge-{uuid.uuid4().hex}",
        memo="test",
    )


@pytest.fixture
def level():
    return LevelFactory(name="黄金", discount_percent=90)


@pytest.fixture
def customer(level):
    customer = make_customer(username="alice", level=level, mobile="13800138000", name="Alice")
    recharge(customer, "1000.00")
    return customer


@pytest.fixture
def other_customer(level):
    customer = make_customer(username="bob", level=level, mobile="13900139000", name="Bob")
    recharge(customer, "500.00")
    return customer


@pytest.fixture
def service():
    # 1 unit = 1.00, from 1000 units 0.80 each.
    return ServiceFactory(name="网站访问", tiers=[(1, "1.00"), (1000, "800.00")])


@pytest.fixture
def staff(db):
    call_command("sync_roles", verbosity=0)
    return StaffFactory(role="客服")


@pytest.fixture
def portal_client(client, customer):
    client.force_login(customer.user)
    return client
