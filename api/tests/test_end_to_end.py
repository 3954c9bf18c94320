"""Issue 13's "done when", in one test: a customer's key places an order by client_order_id,
the same call again returns the same order, the agent finishes it, a local receiver gets a
Standard-Webhooks-signed event naming that client_order_id, and the portal lists the delivery."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from standardwebhooks import Webhook

from notifications.delivery import deliver_due
from notifications.services import endpoint_save
from notifications.tests.conftest import Receiver
from orders.fulfilment import locmem
from orders.models import Order
from wallet.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_key_order_repeat_agent_signed_webhook_and_portal_delivery(
    api, customer, service, receiver
):
    locmem.reset()
    endpoint = endpoint_save(customer=customer, url=receiver.url)
    body = {
        "service": service.pk,
        "target": "https://example.com/page",
        "quantity": 100,
        "client_order_id": "shop-42",
    }
    first = api.post("/orders", body)
    again = api.post("/orders", body)
    assert first.status_code in (200, 201) and again.status_code == 200
    assert again.json() == first.json() or again.json()["number"] == first.json()["number"]
    number = first.json()["number"]
    assert Order.objects.filter(customer=customer).count() == 1
    assert Entry.objects.filter(order_number=number, kind=Entry.Kind.ORDER_DEBIT).count() == 1

    call_command("run_agent", "--once", "--name", "e2e", verbosity=0)
    assert api.get(f"/orders/{number}").json()["status"] == "completed"
    assert deliver_due() == 1

    [received] = receiver.received
    event = Webhook(endpoint.secret).verify(received["body"], received["headers"])
    assert event["type"] == "order.completed"
    assert event["data"]["order_number"] == number
    assert event["data"]["client_order_id"] == "shop-42"
    assert json.loads(received["body"])["id"] == received["headers"]["webhook-id"]

    portal = Client()
    portal.force_login(customer.user)
    page = portal.get("/portal/notifications/").content.decode()
    assert received["headers"]["webhook-id"] in page or "order.completed" in page
