"""The agent with the webhook backend: a local supplier that answers, and one that is down."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from orders.fulfilment import signing
from orders.models import Order
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_support import (
    _fresh_locmem,
    assert_money_right,
    funded_customer,
    place,
)
from wallet.models import Entry

pytestmark = pytest.mark.django_db
__all__ = ["_fresh_locmem"]

SECRET = "webhook-test-secret"


class Supplier(BaseHTTPRequestHandler):
    """Accepts every order and delivers 3 of it; remembers whether signatures verified."""

    seen: list[tuple[dict, bool]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = signing.verify(
            SECRET,
            self.headers[signing.TIMESTAMP_HEADER],
            body,
            self.headers[signing.SIGNATURE_HEADER],
        )
        payload = json.loads(body)
        Supplier.seen.append((payload, ok))
        answer = {"status": "partial", "delivered": 3, "reference": "W-1", "message": "3 done"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def supplier_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Supplier)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Supplier.seen = []
    yield f"http://127.0.0.1:{server.server_port}/orders"
    server.shutdown()
    server.server_close()


def webhook(url):
    return {
        "hook": {
            "BACKEND": "orders.fulfilment.webhook.WebhookBackend",
            "OPTIONS": {"url": url, "secret": SECRET, "timeout": 2, "retries": 0, "backoff": 0},
        }
    }


def test_an_answering_supplier_gets_a_signed_request_and_its_answer_is_booked(
    settings, supplier_url
):
    settings.FULFILMENT_BACKENDS = webhook(supplier_url)
    customer = funded_customer(balance="100.00")
    order = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="hook"), quantity=5)
    call_command("run_agent", "--once", "--name", "w", verbosity=0)
    [(payload, verified)] = Supplier.seen
    assert verified and payload["order_number"] == order.number and payload["quantity"] == 5
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIAL and order.supplier_reference == "W-1"
    assert Entry.objects.get(order_number=order.number, kind="refund").amount == 2
    assert_money_right(customer, "97.00")


def test_an_unreachable_supplier_releases_the_order_and_refunds_nothing(settings):
    settings.FULFILMENT_BACKENDS = webhook("http://127.0.0.1:1/orders")  # nothing listens
    customer = funded_customer(balance="100.00")
    order = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="hook"), quantity=5)
    call_command("run_agent", "--once", "--name", "w", verbosity=0)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert "SupplierUnavailable" in order.last_error
    assert not Entry.objects.filter(order_number=order.number, kind="refund").exists()
    assert_money_right(customer, "95.00")
