"""Bad input to order_place: each a clear error, and nothing written (no order, no money)."""

from decimal import Decimal

import pytest

from customers.services import customer_set_active
from orders.exceptions import (
    CUSTOMER_INACTIVE,
    QUANTITY_NOT_AN_INTEGER,
    QUANTITY_OUT_OF_RANGE,
    SERVICE_UNAVAILABLE,
    TARGET_INVALID_PATTERN,
    TARGET_INVALID_URL,
    TARGET_REQUIRED,
    CustomerInactive,
    InvalidQuantity,
    InvalidTarget,
    ServiceUnavailable,
)
from orders.models import Order, OrderEvent, Service
from orders.services import order_place
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.exceptions import INSUFFICIENT_FUNDS, InsufficientFunds
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return funded_customer(balance="50.00")


def _nothing_written(customer):
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Entry.objects.exclude(kind=Entry.Kind.RECHARGE).count() == 0
    assert balance_of(customer_id=customer.pk) == Decimal("50.00")


def test_inactive_service(customer):
    service = ServiceFactory(is_active=False)
    with pytest.raises(ServiceUnavailable) as refused:
        order_place(customer=customer, service=service, target="https://a.cn", quantity=10)
    assert str(refused.value) == SERVICE_UNAVAILABLE
    _nothing_written(customer)


def test_service_deactivated_after_the_form_was_shown(customer):
    service = ServiceFactory()
    Service.objects.filter(pk=service.pk).update(is_active=False)  # `service` is now stale
    with pytest.raises(ServiceUnavailable):
        order_place(customer=customer, service=service, target="https://a.cn", quantity=10)
    _nothing_written(customer)


def test_unknown_service(customer):
    ghost = ServiceFactory()
    ghost_id = ghost.pk
    ghost.delete()
    ghost.pk = ghost_id
    with pytest.raises(ServiceUnavailable):
        order_place(customer=customer, service=ghost, target="https://a.cn", quantity=10)
    _nothing_written(customer)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", TARGET_REQUIRED),
        ("   ", TARGET_REQUIRED),
        ("not a url", TARGET_INVALID_URL),
        ("ftp://a.cn/x", TARGET_INVALID_URL),
        ("javascript:alert(1)", TARGET_INVALID_URL),
    ],
)
def test_url_target_that_fails_validation(customer, target, message):
    service = ServiceFactory()
    with pytest.raises(InvalidTarget) as refused:
        order_place(customer=customer, service=service, target=target, quantity=10)
    assert str(refused.value) == message
    _nothing_written(customer)


def test_pattern_target_that_fails_validation(customer):
    service = ServiceFactory(
        target_kind=Service.TargetKind.PATTERN, target_pattern=r"[a-z0-9_]{3,20}"
    )
    with pytest.raises(InvalidTarget) as refused:
        order_place(customer=customer, service=service, target="Bad Name!", quantity=10)
    assert str(refused.value) == TARGET_INVALID_PATTERN
    # the whole target must match, not just a part of it
    with pytest.raises(InvalidTarget):
        order_place(customer=customer, service=service, target="ok_name but more", quantity=10)
    _nothing_written(customer)
    order = order_place(customer=customer, service=service, target="good_name", quantity=10)
    assert order.target == "good_name"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("1.5", QUANTITY_NOT_AN_INTEGER),
        ("abc", QUANTITY_NOT_AN_INTEGER),
        ("-3", QUANTITY_NOT_AN_INTEGER),
        (-3, QUANTITY_OUT_OF_RANGE % {"minimum": 1, "maximum": 100000}),
        (0, QUANTITY_OUT_OF_RANGE % {"minimum": 1, "maximum": 100000}),
    ],
)
def test_non_integer_or_negative_quantity(customer, quantity, message):
    service = ServiceFactory()
    with pytest.raises(InvalidQuantity) as refused:
        order_place(customer=customer, service=service, target="https://a.cn", quantity=quantity)
    assert str(refused.value) == message
    _nothing_written(customer)


def test_inactive_customer(customer):
    customer_set_active(customer=customer, is_active=False)
    with pytest.raises(CustomerInactive) as refused:
        order_place(customer=customer, service=ServiceFactory(), target="https://a.cn", quantity=1)
    assert str(refused.value) == CUSTOMER_INACTIVE
    _nothing_written(customer)


def test_insufficient_funds(customer):
    service = ServiceFactory(tiers=[(1, "1.00")])
    with pytest.raises(InsufficientFunds) as refused:
        order_place(customer=customer, service=service, target="https://a.cn", quantity=51)
    assert str(refused.value) == INSUFFICIENT_FUNDS % {
        "balance": Decimal("50.00"),
        "amount": Decimal("51.00"),
    }
    _nothing_written(customer)
    # exactly the balance is fine and leaves zero
    order_place(customer=customer, service=service, target="https://a.cn", quantity=50)
    assert balance_of(customer_id=customer.pk) == Decimal("0.00")
