"""Races a customer can start from two tabs: a double-clicked confirmation, a code used twice."""

import re
import threading
import uuid
from decimal import Decimal

import pytest
import sms
from django.db import connection
from django.test import Client
from django.urls import reverse

from orders.models import Order
from wallet.models import Entry
from wallet.selectors import balance_of


def race(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; return their results in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported through results
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
def test_double_submitted_confirmation_places_one_order(customer, service):
    data = {
        "service": service.pk,
        "target": "https://example.com/race",
        "quantity": "100",
        "idempotency_key": str(uuid.uuid4()),
        "shown_amount": "90.00",
    }

    def submit(_):
        client = Client()
        client.force_login(customer.user)
        return client.post(reverse("portal:order_confirm"), data)

    responses = race(4, submit)
    assert all(getattr(r, "status_code", None) == 302 for r in responses), responses
    assert len({r["Location"] for r in responses}) == 1
    order = Order.objects.get()
    assert Entry.objects.filter(order_number=order.number).count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("910.00")


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
def test_one_code_logs_in_once_even_when_raced(customer):
    sender = Client()
    sender.post(reverse("portal:sms_send"), {"mobile": "13800138000"})
    code = re.search(r"\d{6}", sms.outbox[-1].body).group()

    def verify(_):
        client = Client()
        response = client.post(reverse("portal:sms_login"), {"mobile": "13800138000", "code": code})
        return response.status_code

    results = race(4, verify)
    assert sorted(results) == [200, 200, 200, 302]
