"""The ledger admin: read-only, filtered, searched, totalled and exported (formula-safe)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.admin import CappedCountPaginator
from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry
from wallet.services import (
    wallet_debit_order,
    wallet_deduct,
    wallet_recharge,
    wallet_refund_order,
)

pytestmark = pytest.mark.django_db

LIST = reverse("admin:wallet_entry_changelist")
CSV = reverse("admin:wallet_entry_export", args=["csv"])
XLSX = reverse("admin:wallet_entry_export", args=["xlsx"])


@pytest.fixture
def ledger(finance):
    """Two customers: one with a staff recharge, a deduct and an order; one recharged once."""
    alice = make_customer(username="alice", name='=HYPERLINK("http://evil")')
    bob = make_customer(username="bob", name="鲍勃")
    wallet_recharge(customer_id=alice.pk, amount="100", created_by=finance, idempotency_key="a1")
    wallet_deduct(
        customer_id=alice.pk, amount="5", created_by=finance, idempotency_key="a2", memo="@SUM(1)"
    )
    wallet_debit_order(customer_id=alice.pk, amount=Decimal("30"), order_number="20261124101010")
    wallet_refund_order(customer_id=alice.pk, amount=Decimal("10"), order_number="20261124101010")
    wallet_recharge(customer_id=bob.pk, amount="7.77", created_by=None, idempotency_key="b1")
    return alice, bob


def _rows(response) -> list[Entry]:
    return list(response.context["cl"].result_list)


def test_finance_sees_every_movement_with_its_balance_after(client, finance, ledger):
    client.force_login(finance)
    response = client.get(LIST)
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 5
    html = response.content.decode()
    for after in ("100.00", "95.00", "65.00", "75.00", "7.77"):
        assert after in html


def test_the_ledger_is_read_only(client, superuser, ledger):
    client.force_login(superuser)
    entry = Entry.objects.first()
    assert client.get(reverse("admin:wallet_entry_add")).status_code == 403
    change = reverse("admin:wallet_entry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert entry.account.customer.name in page.content.decode()  # the customer, linked
    assert 'name="_save"' not in page.content.decode()
    client.post(change, {"memo": "edited", "amount": "999"})
    entry.refresh_from_db()
    assert entry.memo != "edited" and entry.amount != Decimal("999")
    assert client.post(reverse("admin:wallet_entry_delete", args=[entry.pk])).status_code == 403
    assert Entry.objects.count() == 5
    response = client.get(LIST)
    assert response.context["action_form"] is None  # no bulk delete either


def test_the_list_never_counts_the_whole_table():
    model_admin = admin.site._registry[Entry]
    assert model_admin.show_full_result_count is False
    assert issubclass(model_admin.paginator, CappedCountPaginator)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind__exact": "recharge"}, 2),
        ({"kind__exact": "refund"}, 1),
        ({"customer": "alice"}, 4),
        ({"customer": "bob"}, 1),
        ({"customer": "nobody"}, 0),
        ({"operator": "system"}, 3),
        ({"q": "20261124101010"}, 2),
        ({"q": "2026112410"}, 2),
        ({"q": "鲍"}, 1),
        ({"q": "alice"}, 4),
    ],
)
def test_filters_and_search(client, finance, ledger, params, expected):
    client.force_login(finance)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert len(_rows(response)) == expected


def test_filter_by_customer_mobile_and_by_staff_user(client, finance, ledger):
    alice, _ = ledger
    client.force_login(finance)
    assert len(_rows(client.get(LIST, {"customer": alice.mobile}))) == 4
    assert len(_rows(client.get(LIST, {"operator": str(finance.pk)}))) == 2


def test_date_range_filter(client, finance, ledger):
    old = Entry.objects.filter(idempotency_key="b1")
    # Entries are immutable through the ORM; move one back in time the way a migration might.
    from django.db import connection

    with connection.cursor() as cursor:
        table = Entry._meta.db_table
        cursor.execute(
            f"UPDATE {table} SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=40), old.get().pk],
        )
    client.force_login(finance)
    today = timezone.localdate()
    recent = {"created_at__range__gte": (today - timedelta(days=7)).isoformat()}
    assert len(_rows(client.get(LIST, recent))) == 4
    until = {"created_at__range__lte": (today - timedelta(days=30)).isoformat()}
    assert len(_rows(client.get(LIST, until))) == 1


def test_totals_of_the_filtered_entries(client, finance, ledger):
    client.force_login(finance)
    totals = client.get(LIST, {"customer": "alice"}).context["ledger_totals"]
    assert totals == {"count": 4, "credit": "¥110.00", "debit": "-¥35.00", "net": "¥75.00"}
    everything = client.get(LIST).context["ledger_totals"]
    assert everything["net"] == "¥82.77"


def test_csv_export_streams_the_filtered_entries_with_formulas_escaped(client, finance, ledger):
    client.force_login(finance)
    listing = client.get(LIST, {"customer": "alice"})
    assert any("export/csv" in url for _, url in listing.context["ledger_export_links"])
    response = client.get(CSV, {"customer": "alice"})
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 5  # header + alice's four
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'@SUM(1)" in cells
    assert "-5.00" in cells  # amounts stay numbers, not escaped text
    assert not any(c.startswith(("=", "@", "+")) for c in cells)


def test_csv_export_walks_every_row_in_batches(finance, ledger):
    from wallet.exports import export_rows

    ids = [row[0] for row in export_rows(Entry.objects.all(), batch=2)]
    assert ids == sorted(Entry.objects.values_list("id", flat=True), reverse=True)


def test_xlsx_export(client, finance, ledger):
    client.force_login(finance)
    response = client.get(XLSX, {"kind__exact": "deduct"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert "'@SUM(1)" in rows[1]
    assert -5 in [v for v in rows[1] if isinstance(v, int | float)]


def test_export_needs_the_export_permission(client, roles, ledger):
    from orders.tests.conftest import grant

    reader = grant(StaffFactory(), "customers.view_customer", "wallet.view_entry")
    client.force_login(reader)
    listing = client.get(LIST)
    assert listing.status_code == 200  # a reader may read the ledger ...
    assert "ledger_export_links" not in listing.context
    assert client.get(CSV).status_code == 403  # ... but not export it
    assert client.get(XLSX).status_code == 403


def test_bad_filters_on_export_go_back_to_the_list(client, finance, ledger):
    client.force_login(finance)
    response = client.get(CSV, {"amount__gt": "x"})
    assert response.status_code == 302


def test_account_managers_read_only_their_customers_entries(client, roles, ledger):
    from customers.services import customer_reassign_manager
    from orders.tests.conftest import grant

    alice, _ = ledger
    manager = grant(StaffFactory(role="客户经理"), "wallet.view_entry")
    customer_reassign_manager(customer=alice, account_manager=manager)
    client.force_login(manager)
    rows = _rows(client.get(LIST))
    assert {e.account.customer_id for e in rows} == {alice.pk}


@pytest.mark.mariadb  # InnoDB always has a row estimate; PostgreSQL's is -1 until ANALYZE
def test_a_broad_filter_on_a_large_ledger_shows_no_totals(client, finance, ledger, monkeypatch):
    """Past the count cap, totals need the table to be small (here: "large" is anything)."""
    from wallet.admin import ledger as ledger_admin

    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    monkeypatch.setattr(ledger_admin, "TOTALS_MAX_ROWS", -1)
    client.force_login(finance)
    broad = client.get(LIST, {"kind__exact": "recharge"})  # 2 rows: not below the cap
    assert broad.context["ledger_totals"] is None
    narrow = client.get(LIST, {"kind__exact": "refund"})  # 1 row: exact, cheap
    assert narrow.context["ledger_totals"]["count"] == 1
