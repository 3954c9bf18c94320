"""Low balance: one SMS and one event per crossing below the threshold, re-armed by a recharge."""

from decimal import Decimal

import pytest
import sms
from django.db import transaction

from notifications.models import LowBalanceAlert, OutboxEvent
from notifications.services import alert_threshold_set
from orders.tests.test_agent_support import funded_customer, place
from wallet.services import wallet_deduct, wallet_recharge

pytestmark = pytest.mark.django_db


def deduct(customer, amount, key):
    wallet_deduct(
        customer_id=customer.pk, amount=amount, created_by=None, idempotency_key=key, memo="t"
    )


def recharge(customer, amount, key):
    wallet_recharge(
        customer_id=customer.pk, amount=amount, created_by=None, idempotency_key=key, memo="t"
    )


def low_events():
    return list(OutboxEvent.objects.filter(type=OutboxEvent.Type.BALANCE_LOW))


def test_one_sms_and_one_event_per_crossing_rearmed_by_a_recharge(
    hooked_customer, django_capture_on_commit_callbacks
):
    customer = hooked_customer  # 100.00, with an active endpoint
    alert_threshold_set(customer=customer, threshold=Decimal("50.00"), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            place(customer, quantity=10)  # 100 → 90 → … → 50: never below
    assert sms.outbox == [] and low_events() == []
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, quantity=10)  # 50 → 40: crosses
        place(customer, quantity=10)  # 40 → 30: still below, no second alert
        place(customer, quantity=5)
    assert len(sms.outbox) == 1
    assert sms.outbox[0].recipients == [customer.mobile]
    assert "40.00" in sms.outbox[0].body and "50.00" in sms.outbox[0].body
    [event] = low_events()
    assert event.payload["balance"] == "40.00" and event.payload["threshold"] == "50.00"
    assert LowBalanceAlert.objects.get(customer=customer).is_below
    with django_capture_on_commit_callbacks(execute=True):
        recharge(customer, "10.00", "r1")  # 25 → 35: still below, not re-armed
        deduct(customer, "1.00", "d1")
    assert len(sms.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        recharge(customer, "20.00", "r2")  # 34 → 54: re-armed
    assert not LowBalanceAlert.objects.get(customer=customer).is_below
    with django_capture_on_commit_callbacks(execute=True):
        deduct(customer, "10.00", "d2")  # 54 → 44: second crossing
    assert len(sms.outbox) == 2 and len(low_events()) == 2


def test_sms_goes_without_an_endpoint_but_no_event(db, django_capture_on_commit_callbacks):
    customer = funded_customer(balance="20.00")
    alert_threshold_set(customer=customer, threshold=Decimal("15.00"), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, quantity=10)
    assert len(sms.outbox) == 1
    assert low_events() == []


def test_threshold_set_while_below_does_not_alert_until_lifted(
    db, django_capture_on_commit_callbacks
):
    customer = funded_customer(balance="20.00")
    alert = alert_threshold_set(customer=customer, threshold=Decimal("50.00"), actor=None)
    assert alert.is_below
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, quantity=5)
    assert sms.outbox == []


def test_removing_the_threshold_stops_alerts(db, django_capture_on_commit_callbacks):
    customer = funded_customer(balance="20.00")
    alert_threshold_set(customer=customer, threshold=Decimal("15.00"), actor=None)
    alert_threshold_set(customer=customer, threshold=None, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        place(customer, quantity=10)
    assert sms.outbox == [] and not LowBalanceAlert.objects.exists()


class Boom(Exception):
    pass


def test_a_rolled_back_debit_sends_nothing(hooked_customer, django_capture_on_commit_callbacks):
    customer = hooked_customer
    alert_threshold_set(customer=customer, threshold=Decimal("95.00"), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Boom), transaction.atomic():
            deduct(customer, "10.00", "rolled-back")
            raise Boom
    assert sms.outbox == [] and low_events() == []
    assert not LowBalanceAlert.objects.get(customer=customer).is_below
    with django_capture_on_commit_callbacks(execute=True):
        deduct(customer, "10.00", "committed")
    assert len(sms.outbox) == 1 and len(low_events()) == 1
