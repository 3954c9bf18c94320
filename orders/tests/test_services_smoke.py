"""Order services: place, cancel, and the agent's transitions move money exactly."""

from decimal import Decimal

import pytest

from customers.tests.factories import LevelFactory, make_customer
from orders.exceptions import OrderNotCancellable
from orders.models import Order
from orders.services import order_cancel, order_fail, order_partial, order_place, order_start
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = pytest.mark.django_db


def _funded_customer(percent=90, balance="100"):
    customer = make_customer(level=LevelFactory(discount_percent=percent))
    wallet_recharge(customer_id=customer.pk, amount=balance, created_by=None, idempotency_key="r")
    return customer


def test_place_debits_the_discounted_amount_and_cancel_refunds_it_once():
    customer = _funded_customer()
    service = ServiceFactory()
    order = order_place(customer=customer, service=service, target="https://a.cn/x", quantity=10)
    assert order.amount == Decimal("9.00")
    assert order.number.isdigit() and len(order.number) == 21
    assert balance_of(customer_id=customer.pk) == Decimal("91.00")
    order_cancel(order=order, actor=None)
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")
    with pytest.raises(OrderNotCancellable):
        order_cancel(order=order, actor=None)
    assert Entry.objects.filter(order_number=order.number).count() == 2


def test_double_submit_places_one_order():
    customer = _funded_customer()
    service = ServiceFactory()
    kwargs = dict(customer=customer, service=service, target="https://a.cn", quantity=10)
    first = order_place(idempotency_key="form-1", **kwargs)
    second = order_place(idempotency_key="form-1", **kwargs)
    assert first.pk == second.pk
    assert Order.objects.count() == 1


def test_partial_refunds_the_undelivered_share_and_fail_refunds_all():
    customer = _funded_customer(percent=100)
    service = ServiceFactory()
    a = order_place(customer=customer, service=service, target="https://a.cn", quantity=3)
    b = order_place(customer=customer, service=service, target="https://a.cn", quantity=3)
    for o in (a, b):
        order_start(order=o, agent="t", lease_until=None)
    order_partial(order=a, delivered=1)
    order_fail(order=b, message="supplier said no")
    # a: charged 3.00, 2 of 3 undelivered → 2.00 back; b: 3.00 back
    assert balance_of(customer_id=customer.pk) == Decimal("99.00")
    with pytest.raises(OrderNotCancellable):
        order_cancel(order=a, actor=None)
