"""Schemathesis against the live schema: every operation, with a real API key, generated
good and bad input; no answer is a 5xx and every answer matches the schema it documents.

Runs in-process through the WSGI application (``schemathesis.openapi.from_wsgi``): the same
Django stack as gunicorn, middleware included, inside the test's database transaction.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.services import api_key_create
from api.tests.conftest import recharge
from customers.tests.factories import LevelFactory, make_customer
from orders.tests.factories import ServiceFactory


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests through the WSGI handler end with ``close_old_connections``, which closes a
    connection inside a transaction — the test's own, on MariaDB. Django's test client
    disconnects it for the same reason; so does this test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(db):
    """A funded customer with a key, and a service, so generated orders can succeed."""
    customer = make_customer(level=LevelFactory(discount_percent=95))
    recharge(customer, "100000.00")
    ServiceFactory(tiers=[(1, "1.00")])
    ServiceFactory(target_kind="pattern", target_pattern=r"[a-z]{1,20}", tiers=[(10, "3.00")])
    _key, token = api_key_create(customer=customer, label="fuzz")
    return {"Authorization": f"Bearer {token}"}


# Loaded at collection (the schema needs no database). schemathesis.pytest.from_fixture would
# load it per test, but it reads pytest's private ``_nodeid``, which pytest 9 no longer has.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, auth_headers):
    case.call_and_validate(
        headers=auth_headers, checks=[not_a_server_error, response_schema_conformance]
    )
