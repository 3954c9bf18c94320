"""My transactions: the customer's own ledger, filters, pagination, CSV export."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.services import order_cancel, order_place
from portal.tests.conftest import recharge
from wallet.services import wallet_deduct

pytestmark = pytest.mark.django_db

LIST = reverse("portal:transaction_list")
EXPORT = reverse("portal:transaction_export")


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def history(customer, service):
    placed = order_place(
        customer=customer, service=service, target="https://a.example/", quantity=100
    )
    cancelled = order_place(
        customer=customer, service=service, target="https://b.example/", quantity=10
    )
    order_cancel(order=cancelled, actor=customer.user)
    return placed, cancelled


def test_list_shows_own_entries_and_balance(portal_client, customer, other_customer, history):
    response = portal_client.get(LIST)
    assert response.status_code == 200
    entries = list(response.context["page"])
    # recharge, 2 debits, 1 refund — and nothing of Bob's.
    assert len(entries) == 4
    assert {e.account.customer_id for e in entries} == {customer.pk}
    assert response.context["balance"] == Decimal("910.00")
    assert entries[0].balance_after == Decimal("910.00")


def test_filters(portal_client, customer, history):
    placed, cancelled = history
    by_kind = portal_client.get(LIST, {"kind": "cancel_refund"})
    assert [e.order_number for e in by_kind.context["page"]] == [cancelled.number]
    by_order = portal_client.get(LIST, {"order": cancelled.number})
    assert [e.kind for e in by_order.context["page"]] == ["cancel_refund", "order_debit"]
    bad = portal_client.get(
        LIST, {"kind": "nope", "date_from": "2026-02-02", "date_to": "2026-01-01"}
    )
    assert {"kind", "date_to"} <= bad.context["form"].errors.keys()
    assert bad.context["page"].paginator.count == 0


def test_pagination_keeps_filters(portal_client, customer, settings):
    settings.PORTAL_PAGE_SIZE = 2
    for _ in range(5):
        recharge(customer, "1.00")
    response = portal_client.get(LIST, {"kind": "recharge", "page": 2})
    assert response.context["page"].paginator.count == 6
    body = response.content.decode()
    assert "kind=recharge&amp;page=3" in body
    assert "kind=recharge&amp;page=1" in body


def test_csv_export_is_filtered_and_formula_escaped(portal_client, customer, history):
    wallet_deduct(
        customer_id=customer.pk,
        amount="1.00",
        created_by=None,
        idempotency_key="deduct-formula",
        memo='=HYPERLINK("http://evil.example","x")',
    )
    rows = csv_rows(portal_client.get(EXPORT))
    header, body = rows[0], rows[1:]
    assert len(header) == 6
    assert len(body) == 5
    memo = body[0][5]
    assert memo.startswith("'=HYPERLINK")
    assert body[0][2] == "-1.00"  # amounts stay numbers, not escaped text
    only_refunds = csv_rows(portal_client.get(EXPORT, {"kind": "cancel_refund"}))
    assert len(only_refunds) == 2


def test_export_link_carries_the_filters(portal_client, history):
    response = portal_client.get(LIST, {"kind": "order_debit", "page": 1})
    assert f'href="{EXPORT}?kind=order_debit"' in response.content.decode()


def test_export_needs_login(client):
    assert client.get(EXPORT).status_code == 302
