"""API test fixtures: two funded customers, a priced service, a key for each, a client."""

import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from api.services import api_key_create
from customers.tests.factories import LevelFactory, make_customer
from orders.tests.factories import ServiceFactory
from wallet.services import wallet_recharge


def recharge(customer, amount: str) -> None:
    wallet_recharge(
        customer_id=customer.pk,
        amount=Decimal(amount),
        created_by=None,
        idempotency_key=f"test-recharge-{uuid.uuid4().hex}",
        memo="test",
    )


@pytest.fixture(autouse=True)
def _default_language():
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    """Tests that are not about rate limits never meet them."""
    settings.API_RATE_PER_SECOND = 0
    settings.API_RATE_PER_MINUTE = 0


@pytest.fixture
def level(db):
    return LevelFactory(name="黄金", discount_percent=90)


@pytest.fixture
def customer(level):
    customer = make_customer(username="alice", level=level, mobile="13800138000", name="Alice")
    recharge(customer, "1000.00")
    return customer


@pytest.fixture
def other_customer(level):
    customer = make_customer(username="bob", level=level, mobile="13900139000", name="Bob")
    recharge(customer, "500.00")
    return customer


@pytest.fixture
def service(db):
    # 1 unit = 1.00, from 1000 units 0.80 each; the level pays 90 %.
    return ServiceFactory(name="网站访问", tiers=[(1, "1.00"), (1000, "800.00")])


@pytest.fixture
def key_pair(customer):
    return api_key_create(customer=customer, label="shop")


@pytest.fixture
def token(key_pair):
    return key_pair[1]


@pytest.fixture
def other_token(other_customer):
    return api_key_create(customer=other_customer, label="bob")[1]


class ApiClient:
    """A Django test client that sends the key and JSON bodies."""

    def __init__(self, token: str | None, **headers):
        self.client = Client()
        self.headers = dict(headers)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, data=None, **headers):
        return self.client.get(f"/api/v1{path}", data, headers={**self.headers, **headers})

    def post(self, path, body=None, **headers):
        import json

        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers={**self.headers, **headers},
        )


@pytest.fixture
def api(token):
    return ApiClient(token)


@pytest.fixture
def other_api(other_token):
    return ApiClient(other_token)
