"""Statements of the portal's order path (issue 16): they must not creep back.

Counted with CaptureQueriesContext: every statement the backend logs, BEGIN and COMMIT
included. Sessions live in the cache (cached_db), services and tiers come from the catalogue
(orders.pricing.services_catalog), so what is left is authentication (the user, the customer
with its level) and the work itself.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db(transaction=True)

NEW = reverse("portal:order_new")
CONFIRM = reverse("portal:order_confirm")

# user, customer + level, balance (read once for the page and its navigation bar)
REVIEW_STATEMENTS = 2
# user, customer + level, then order_place with a key: BEGIN, lock (customer and level in the
# same statement), the key, the service joined with its tiers, order, balance, entry, event,
# COMMIT. PostgreSQL reads the customer under the lock in a statement of its own (one more).
CONFIRM_STATEMENTS = 10


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_review_and_confirm_statements(portal_client, customer, service):
    portal_client.get(NEW)  # warms the catalogue, as any earlier visitor would have
    data = {
        "service": service.pk,
        "target": "https://a.example/",
        "quantity": "10",
        "idempotency_key": str(uuid.uuid4()),
    }
    with CaptureQueriesContext(connection) as review:
        page = portal_client.post(NEW, data)
    assert page.templates[0].name == "portal/order_confirm.html"
    assert len(_statements(review)) == REVIEW_STATEMENTS, "\n".join(_statements(review))

    with CaptureQueriesContext(connection) as confirm:
        response = portal_client.post(CONFIRM, data | {"shown_amount": "9.00"})
    assert response.status_code == 302
    statements = _statements(confirm)
    budget = CONFIRM_STATEMENTS + (connection.vendor == "postgresql")
    assert len(statements) == budget, "\n".join(statements)
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert sum("orders_pricetier" in s for s in statements) == 1  # the joined read under the lock
    assert sum("auth_user" in s for s in statements) <= 2  # authentication, and the customer's join
    assert sum(s.startswith("SELECT") and "wallet_account" in s for s in statements) == 1
    assert Order.objects.get().amount == Decimal("9.00")
    assert balance_of(customer_id=customer.pk) == Decimal("991.00")


DASHBOARD = reverse("portal:dashboard")


def test_one_statement_authentication_keeps_djangos_rules(portal_client, customer, settings):
    """The user with its customer in one read is accepted only where Django's get_user would
    accept it; otherwise Django's own path runs (and logs out, or rotates a fallback secret)."""
    with CaptureQueriesContext(connection) as captured:
        assert portal_client.get(DASHBOARD).status_code == 200
    assert sum("auth_user" in q["sql"] for q in captured.captured_queries) == 1

    # A password changed elsewhere: the session's hash no longer matches, the session ends.
    customer.user.set_password("a-new-password-123")
    customer.user.save()
    response = portal_client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    assert "_auth_user_id" not in portal_client.session


def test_a_session_of_a_rotated_secret_is_still_verified_by_django(client, customer, settings):
    client.force_login(customer.user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert client.get(DASHBOARD).status_code == 200  # Django's path: fallback verified, rotated
    assert client.get(DASHBOARD).status_code == 200  # then the fast path on the new hash
