"""Fixtures for the dashboard tests: one user per role, two managers' customers, a service, and
business activity done through the real services (place, cancel, complete, refund, recharge)."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.tests.factories import LevelFactory, StaffFactory, make_customer
from orders.services import (
    order_cancel,
    order_complete,
    order_fail,
    order_partial,
    order_place,
    order_start,
)
from orders.tests.factories import ServiceFactory
from wallet.services import wallet_deduct, wallet_recharge

PASSWORD = "pw-staff-123"
_keys = itertools.count(1)


def key(prefix: str) -> str:
    return f"{prefix}:{next(_keys)}"


class Activity:
    """Business done the way the product does it: every write through a service."""

    def __init__(self, service):
        self.service = service

    def recharge(self, customer, amount: str, by=None):
        return wallet_recharge(
            customer_id=customer.pk, amount=amount, created_by=by, idempotency_key=key("r")
        )

    def deduct(self, customer, amount: str, by=None):
        return wallet_deduct(
            customer_id=customer.pk,
            amount=amount,
            created_by=by,
            idempotency_key=key("d"),
            memo="test",
        )

    def place(self, customer, quantity: int = 1000):
        return order_place(
            customer=customer,
            service=self.service,
            target="https://v.example.cn/1",
            quantity=quantity,
        )

    def cancel(self, order, by=None):
        return order_cancel(order=order, actor=by)

    def start(self, order):
        return order_start(
            order=order, agent="test-agent", lease_until=timezone.now() + timedelta(minutes=5)
        )

    def complete(self, order):
        return order_complete(order=self.start(order), agent="test-agent")

    def partial(self, order):
        order = self.start(order)
        return order_partial(order=order, delivered=order.quantity // 2, agent="test-agent")

    def fail(self, order):
        return order_fail(order=self.start(order), agent="test-agent", message="boom")


@pytest.fixture
def staff(roles):
    """A superuser and one user per role, all with the password PASSWORD."""
    return {
        "superuser": StaffFactory(username="root", is_superuser=True, password=PASSWORD),
        "admin": StaffFactory(username="boss", role="管理员", password=PASSWORD),
        "finance": StaffFactory(username="cashier", role="财务", password=PASSWORD),
        "manager": StaffFactory(username="manager1", role="客户经理", password=PASSWORD),
        "manager2": StaffFactory(username="manager2", role="客户经理", password=PASSWORD),
        "support": StaffFactory(username="helpdesk", role="客服", password=PASSWORD),
    }


@pytest.fixture
def service(db):
    return ServiceFactory(
        name="视频播放量",
        min_quantity=1000,
        max_quantity=1_000_000,
        tiers=[(1000, "8.00"), (10_000, "70.00")],
    )


@pytest.fixture
def activity(service):
    return Activity(service)


@pytest.fixture
def book(staff):
    """Two customers of manager1 and one of manager2, each with ¥1,000.00."""
    level = LevelFactory(name="标准", discount_percent=100)
    customers = {
        "alice": make_customer(
            username="alice", name="Alice", account_manager=staff["manager"], level=level
        ),
        "amy": make_customer(
            username="amy", name="Amy", account_manager=staff["manager"], level=level
        ),
        "bob": make_customer(
            username="bob", name="Bob", account_manager=staff["manager2"], level=level
        ),
    }
    for customer in customers.values():
        wallet_recharge(
            customer_id=customer.pk,
            amount=Decimal("1000.00"),
            created_by=None,
            idempotency_key=f"opening:{customer.pk}",
        )
    return customers
