"""The outbox row exists exactly when the status change committed."""

import pytest
from django.db import transaction

from notifications.models import Delivery, OutboxEvent
from orders.models import Order
from orders.services import order_cancel
from orders.tests.test_agent_support import place


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_rolled_back_cancel_leaves_no_event_and_sends_nothing(hooked_customer, receiver):
    from notifications.delivery import deliver_due

    order = place(hooked_customer)
    with pytest.raises(Boom), transaction.atomic():
        order_cancel(order=order, actor=None)
        assert OutboxEvent.objects.count() == 1  # written inside the transaction
        raise Boom
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not OutboxEvent.objects.exists() and not Delivery.objects.exists()
    assert deliver_due() == 0 and receiver.received == []
    order_cancel(order=order, actor=None)
    [event] = OutboxEvent.objects.all()
    assert event.type == "order.cancelled" and event.payload["order_number"] == order.number
    assert deliver_due() == 1 and len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_failed_event_write_rolls_back_the_status_change(hooked_customer, monkeypatch):
    """The other direction: the event and the status change are one transaction."""
    from notifications import receivers

    order = place(hooked_customer)

    def broken(**kwargs):
        raise Boom

    monkeypatch.setattr(receivers, "event_record", broken)
    with pytest.raises(Boom):
        order_cancel(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
