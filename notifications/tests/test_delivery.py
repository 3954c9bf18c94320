"""Events reach a real receiver signed in the Standard Webhooks format, retried until it answers."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook

from notifications.delivery import DEFAULT_SCHEDULE, deliver_due
from notifications.models import Delivery, OutboxEvent
from notifications.services import delivery_resend
from notifications.tests.conftest import Receiver
from orders.models import Order
from orders.tests.test_agent_support import place

pytestmark = pytest.mark.django_db


def run_agent_once():
    call_command("run_agent", "--once", "--name", "t1", verbosity=0)


def make_due():
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(next_try_at=timezone.now())


def test_finished_order_is_delivered_with_a_verifiable_signature(hooked_customer, receiver):
    order = place(hooked_customer, quantity=10)
    run_agent_once()
    assert deliver_due() == 1
    [received] = receiver.received
    secret = hooked_customer.webhook_endpoint.secret
    body = Webhook(secret).verify(received["body"], received["headers"])
    event = OutboxEvent.objects.get()
    assert received["headers"]["webhook-id"] == event.event_id
    assert body["id"] == event.event_id and body["type"] == "order.completed"
    data = body["data"]
    assert data["order_number"] == order.number
    assert data["status"] == Order.Status.COMPLETED
    assert data["quantity"] == 10 and data["delivered"] == 10
    assert data["amount"] == "10.00" and data["refunded"] == "0.00"
    assert data["client_order_id"] is None
    assert data["finished_at"]
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 204 and delivery.last_response_ms is not None
    assert delivery.delivered_at and delivery.next_try_at is None
    assert deliver_due() == 0  # nothing sent twice


def test_wrong_secret_does_not_verify(hooked_customer, receiver):
    place(hooked_customer)
    run_agent_once()
    deliver_due()
    [received] = receiver.received
    other = "whsec_" + "A" * 32
    with pytest.raises(Exception):  # noqa: B017,PT011 - WebhookVerificationError
        Webhook(other).verify(received["body"], received["headers"])


def test_receiver_down_is_retried_on_the_schedule_and_delivered_once_back(
    hooked_customer, receiver
):
    place(hooked_customer)
    run_agent_once()
    port = receiver.port
    receiver.stop()  # down: connection refused
    before = timezone.now()
    assert deliver_due() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None and "Connection" in delivery.last_error
    wait = (delivery.next_try_at - before).total_seconds()
    assert DEFAULT_SCHEDULE[0] - 1 <= wait <= DEFAULT_SCHEDULE[0] + 5
    assert deliver_due() == 0  # not due yet
    # Still down at the second try; then an error status at the third.
    make_due()
    assert deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.failures == 2
    assert delivery.next_try_at - timezone.now() > timedelta(seconds=DEFAULT_SCHEDULE[1] - 10)
    back_receiver = Receiver(port=port)  # back on the same port: 500 first, then 200
    try:
        back_receiver.status = 500
        make_due()
        deliver_due()
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 500
        back_receiver.status = 200
        make_due()
        deliver_due()
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 4
        assert list(delivery.tries.values_list("number", "status_code")) == [
            (1, None),
            (2, None),
            (3, 500),
            (4, 200),
        ]
        ids = {e["id"] for e in back_receiver.events()}
        assert ids == {delivery.event.event_id}  # the same stable id at every try
    finally:
        back_receiver.stop()


def test_gives_up_after_the_last_wait_and_send_again_requeues(hooked_customer, receiver):
    place(hooked_customer)
    run_agent_once()
    receiver.status = 503
    for _ in range(len(DEFAULT_SCHEDULE) + 1):
        make_due()
        assert deliver_due() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.next_try_at is None
    assert delivery.attempts == len(DEFAULT_SCHEDULE) + 1
    assert sum(DEFAULT_SCHEDULE) >= 24 * 3600
    make_due()
    assert deliver_due() == 0
    receiver.status = 200
    delivery_resend(delivery_id=delivery.pk)
    assert deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.attempts == len(DEFAULT_SCHEDULE) + 2


def test_no_event_without_an_active_endpoint(hooked_customer, receiver):
    endpoint = hooked_customer.webhook_endpoint
    endpoint.is_active = False
    endpoint.save()
    place(hooked_customer)
    run_agent_once()
    assert not OutboxEvent.objects.exists()


def test_cancelled_and_failed_orders_say_what_was_refunded(hooked_customer, receiver):
    from orders.fulfilment import FulfilmentResult, Outcome, locmem
    from orders.services import order_cancel

    cancelled = place(hooked_customer, quantity=3)
    order_cancel(order=cancelled, actor=None)
    failed = place(hooked_customer, quantity=4)
    locmem.script(failed.number, FulfilmentResult(outcome=Outcome.FAILED, message="no"))
    partial = place(hooked_customer, quantity=4)
    locmem.script(partial.number, FulfilmentResult(outcome=Outcome.PARTIAL, delivered_quantity=1))
    run_agent_once()
    deliver_due()
    by_number = {e["data"]["order_number"]: e for e in receiver.events()}
    assert by_number[cancelled.number]["type"] == "order.cancelled"
    assert by_number[cancelled.number]["data"]["refunded"] == "3.00"
    assert by_number[failed.number]["type"] == "order.failed"
    assert by_number[failed.number]["data"]["refunded"] == "4.00"
    assert by_number[partial.number]["type"] == "order.partial"
    assert by_number[partial.number]["data"]["refunded"] == "3.00"


def test_endpoint_turned_off_after_the_event_is_retried_not_sent(hooked_customer, receiver):
    from notifications.exceptions import ENDPOINT_INACTIVE

    place(hooked_customer)
    run_agent_once()
    hooked_customer.webhook_endpoint.__class__.objects.update(is_active=False)
    assert deliver_due() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.failures == 1
    assert delivery.last_error == str(ENDPOINT_INACTIVE)
    assert receiver.received == []


def test_deliver_webhooks_command_sends_what_is_due(hooked_customer, receiver):
    from io import StringIO

    for _ in range(3):
        place(hooked_customer)
    run_agent_once()
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    from notifications.management.commands.deliver_webhooks import ATTEMPTED

    assert out.getvalue().splitlines()[0] == str(ATTEMPTED) % {"count": 3}
    assert len(receiver.received) == 3
