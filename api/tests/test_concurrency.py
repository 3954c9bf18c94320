"""Idempotency under real concurrency: 20 simultaneous POSTs with one client_order_id, each
thread on its own database connection, make one order and one debit, and every answer carries
that order."""

import threading
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection

from api.exceptions import ApiKeyError
from api.models import ApiKey
from api.services import MAX_ACTIVE_KEYS, api_key_create
from api.tests.conftest import ApiClient
from orders.models import Order
from orders.tests.test_agent_concurrency import in_threads
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_concurrent_posts_make_one_order_and_one_debit(customer, token, service):
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []
    body = {
        "service": service.pk,
        "target": "https://example.com/x",
        "quantity": 100,
        "client_order_id": "race-1",
    }

    def post(index):
        try:
            api = ApiClient(token)
            barrier.wait(timeout=30)
            response = api.post("/orders", body)
            results[index] = (response.status_code, response.json())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    numbers = {payload["number"] for _status, payload in results}
    assert len(numbers) == 1
    assert all(payload == results[0][1] for _status, payload in results)
    assert Order.objects.filter(customer=customer).count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.ORDER_DEBIT, order_number__in=numbers).count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("910.00")


def test_concurrent_key_creations_never_pass_the_cap(customer):
    """Customer with MAX_ACTIVE_KEYS - 1 active keys, eight creations at once: exactly one more."""
    for n in range(MAX_ACTIVE_KEYS - 1):
        api_key_create(customer=customer, label=f"k{n}")
    outcomes: list[str] = []

    def create(index):
        try:
            api_key_create(customer=customer, label=f"race{index}")
            outcomes.append("created")
        except ApiKeyError:
            outcomes.append("refused")

    creators = 8
    in_threads(*(partial(create, i) for i in range(creators)))
    assert sorted(outcomes) == ["created"] + ["refused"] * (creators - 1), outcomes
    assert ApiKey.objects.filter(customer=customer, revoked_at__isnull=True).count() == (
        MAX_ACTIVE_KEYS
    )
