"""POST /fulfilment/callback/: the supplier's signed answer for an accepted order."""

import json
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.agent.claim import claim_due
from orders.agent.worker import run_claim
from orders.fulfilment import FulfilmentResult, Outcome, locmem, signing
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

URL = "/fulfilment/callback/"
SECRET = "supplier-shared-secret"
BACKENDS = {
    "locmem": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend"},
    "async": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend", "OPTIONS": {"secret": SECRET}},
}


@pytest.fixture(autouse=True)
def _backends(settings):
    settings.FULFILMENT_BACKENDS = BACKENDS


@pytest.fixture
def customer():
    return funded_customer(balance="100.00")


@pytest.fixture
def accepted(customer):
    """A 10-unit order (10.00) the supplier accepted with reference SUP-9."""
    order = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="async"), quantity=10)
    locmem.script(
        order.number, FulfilmentResult(outcome=Outcome.ACCEPTED, supplier_reference="SUP-9")
    )
    [claim] = claim_due(agent="a1", limit=1).claims
    assert run_claim(claim, agent="a1") == "accepted"
    order.refresh_from_db()
    assert order.status == Order.Status.RUNNING and order.lease_owner == ""
    return order


def post(client, payload, *, secret=SECRET, timestamp=None, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = timestamp or signing.timestamp_now()
    signature = signature or signing.sign(secret, timestamp, body)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={signing.TIMESTAMP_HEADER: timestamp, signing.SIGNATURE_HEADER: signature},
    )


def test_a_good_callback_finishes_the_order_with_the_right_refund(client, customer, accepted):
    payload = {
        "order_number": accepted.number,
        "status": "partial",
        "delivered": 7,
        "baseline": 120,
        "reference": "SUP-9",
        "message": "3 could not be delivered",
    }
    response = post(client, payload)
    assert response.status_code == 200, response.content
    assert response.json() == {"order_number": accepted.number, "status": "partial"}
    accepted.refresh_from_db()
    assert accepted.status == Order.Status.PARTIAL
    assert accepted.delivered_quantity == 7 and accepted.baseline_count == 120
    event = accepted.events.last()
    assert (event.to_status, event.agent, event.message) == (
        "partial",
        "callback",
        "3 could not be delivered",
    )
    refund = Entry.objects.get(order_number=accepted.number, kind=Entry.Kind.REFUND)
    assert refund.amount == Decimal("3.00")
    assert_money_right(customer, "93.00")


def test_completed_and_failed_callbacks(client, customer):
    service = ServiceFactory(tiers=[(1, "1.00")], backend="async")
    done, gone = place(customer, service, quantity=5), place(customer, service, quantity=5)
    locmem.script("*", FulfilmentResult(outcome=Outcome.ACCEPTED))
    for claim in claim_due(agent="a1", limit=2).claims:
        run_claim(claim, agent="a1")
    assert post(client, {"order_number": done.number, "status": "completed"}).status_code == 200
    response = post(client, {"order_number": gone.number, "status": "failed", "delivered": 0})
    assert response.status_code == 200
    assert Order.objects.get(pk=done.pk).status == "completed"
    assert Order.objects.get(pk=gone.pk).status == "failed"
    assert_money_right(customer, "95.00")


def test_a_bad_signature_is_rejected_and_changes_nothing(client, customer, accepted):
    payload = {"order_number": accepted.number, "status": "completed", "delivered": 10}
    assert post(client, payload, secret="wrong-secret").status_code == 403
    assert post(client, payload, signature="0" * 64).status_code == 403
    old = str(int(time.time()) - 3600)
    assert post(client, payload, timestamp=old).status_code == 403  # signed, but stale
    body = json.dumps(payload).encode()
    ts = signing.timestamp_now()
    tampered = json.dumps({**payload, "status": "failed", "delivered": 0}).encode()
    response = post(
        client, None, raw=tampered, timestamp=ts, signature=signing.sign(SECRET, ts, body)
    )
    assert response.status_code == 403
    accepted.refresh_from_db()
    assert accepted.status == Order.Status.RUNNING
    assert_money_right(customer, "90.00")


def test_a_replay_is_rejected(client, customer, accepted):
    payload = {"order_number": accepted.number, "status": "accepted", "reference": "SUP-9"}
    body = json.dumps(payload).encode()
    ts = signing.timestamp_now()
    signature = signing.sign(SECRET, ts, body)
    first = post(client, None, raw=body, timestamp=ts, signature=signature)
    assert first.status_code == 200 and first.json()["status"] == "running"
    again = post(client, None, raw=body, timestamp=ts, signature=signature.upper())
    assert again.status_code == 409
    assert again.json() == {"error": "replayed request"}


def test_an_unknown_order_is_404_only_with_a_valid_signature(client):
    payload = {"order_number": "20990101000000000000", "status": "completed"}
    assert post(client, payload).status_code == 404
    assert post(client, payload, secret="guess").status_code == 403


def test_an_order_that_is_not_running_is_409(client, customer, accepted):
    pending = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="async"), quantity=1)
    response = post(client, {"order_number": pending.number, "status": "completed"})
    assert response.status_code == 409
    assert post(client, {"order_number": accepted.number, "status": "completed"}).status_code == 200
    response = post(client, {"order_number": accepted.number, "status": "failed", "delivered": 0})
    assert response.status_code == 409  # already completed: no second booking, no refund
    assert not Entry.objects.filter(order_number=accepted.number, kind="refund").exists()


def test_a_service_without_a_secret_accepts_no_callback(client, customer):
    order = place(customer, ServiceFactory(tiers=[(1, "1.00")], backend="locmem"), quantity=1)
    claim_due(agent="a1", limit=1)
    assert post(client, {"order_number": order.number, "status": "completed"}).status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "completed", "delivered": 9},
        {"status": "partial", "delivered": 10},
        {"status": "partial", "delivered": 0},
        {"status": "failed", "delivered": 2},
        {"status": "done"},
        {"status": "partial", "delivered": "5"},
        {"status": "completed", "reference": "SOMEONE-ELSE"},
        {"status": "completed", "baseline": -1},
    ],
)
def test_an_impossible_result_is_400_and_changes_nothing(client, customer, accepted, payload):
    response = post(client, {"order_number": accepted.number, **payload})
    assert response.status_code == 400
    assert "error" in response.json()
    assert Order.objects.get(pk=accepted.pk).status == Order.Status.RUNNING
    assert_money_right(customer, "90.00")


def test_malformed_bodies_and_wrong_methods(client):
    assert post(client, None, raw=b"not json").status_code == 400
    assert post(client, None, raw=b"[1, 2]").status_code == 400
    assert client.get(URL).status_code == 405


def test_csrf_is_not_required_for_the_signed_callback(customer, accepted):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    payload = {"order_number": accepted.number, "status": "completed", "delivered": 10}
    assert post(strict, payload).status_code == 200


def test_callback_and_poll_racing_book_once(client, customer, accepted):
    """A poll claimed the order; the callback books first; the poll's answer is then dropped."""
    Order.objects.filter(pk=accepted.pk).update(lease_expires_at=timezone.now())
    [claim] = claim_due(agent="a2", limit=1).claims
    assert claim.poll
    assert post(client, {"order_number": accepted.number, "status": "completed"}).status_code == 200
    locmem.script(accepted.number, FulfilmentResult(outcome=Outcome.FAILED))
    assert run_claim(claim, agent="a2") == "lost"
    assert not Entry.objects.filter(order_number=accepted.number, kind="refund").exists()
    assert_money_right(customer, "90.00")
