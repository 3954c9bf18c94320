"""The admin index shows each role its dashboard, and every figure's link opens a list whose
count or total is that figure."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.tests.figures import figures_in, ledger_figure
from customers.tests.factories import StaffFactory
from orders.models import Agent
from wallet.services import topup_request_approve, topup_request_submit

pytestmark = pytest.mark.django_db
INDEX = "/admin/"


def business(staff, book, activity):
    alice, amy, bob = book["alice"], book["amy"], book["bob"]
    orders = [activity.place(c) for c in (alice, alice, amy, bob, bob)]
    activity.cancel(orders[0], by=staff["support"])
    activity.complete(orders[1])
    activity.fail(orders[3])
    activity.partial(activity.place(amy, quantity=10_000))
    activity.recharge(bob, "120.50", by=staff["finance"])
    activity.deduct(amy, "3.00", by=staff["finance"])
    Agent.objects.create(name="agent-1", hostname="h", pid=1)
    for n, customer in enumerate((alice, bob, bob)):
        request = topup_request_submit(
            customer_id=customer.pk,
            submitted_by=customer.user,
            amount="50.00",
            method="alipay",
            payer=customer.name,
            reference=f"ZFB-{n}",
        )
    topup_request_approve(request_id=request.pk, actor=staff["finance"])


def page(client, user):
    client.force_login(user)
    response = client.get(INDEX)
    assert response.status_code == 200
    return response.content.decode()


def check_every_link(client, html: str) -> int:
    """Open every figure's list; its count or total must be the figure. Returns how many."""
    checked = 0
    for name, value, url in figures_in(html):
        response = client.get(url)
        assert response.status_code == 200, (name, url)
        if url.startswith(reverse("admin:wallet_entry_changelist")):
            totals = response.context_data["ledger_totals"]
            credit, debit, net = (
                Decimal(totals[k].replace(",", "").replace("¥", "").replace("+", ""))
                for k in ("credit", "debit", "net")
            )
            assert ledger_figure(name, credit, debit, net) == Decimal(value), (name, url)
        elif name == "oldest_pending":
            continue
        else:
            assert response.context_data["cl"].result_count == int(value), (name, url)
        checked += 1
    return checked


def test_superuser_sees_every_figure_and_each_link_shows_exactly_its_rows(
    client, staff, book, activity
):
    business(staff, book, activity)
    html = page(client, staff["superuser"])
    names = {name for name, _v, _u in figures_in(html)}
    assert {"placed-today", "completed-today", "net_sales-month", "balance_held"} <= names
    assert {"pending", "running", "agents_alive", "failed_24h", "low_balance", "top-1"} <= names
    assert 'id="dashboard-chart-data"' in html and "chart.umd.js" in html
    assert "dashboard-chart-orders" in html and "dashboard-chart-money" in html
    assert "<script>" not in html.split('id="dashboard"')[1]  # no inline JS in the dashboard
    assert "role-shortcut" in html  # the role shortcuts stay
    assert check_every_link(client, html) >= 35


def test_account_manager_sees_only_their_customers_and_no_money(client, staff, book, activity):
    business(staff, book, activity)
    html = page(client, staff["manager"])
    figures = {name: value for name, value, _u in figures_in(html)}
    assert figures["placed-today"] == "4"  # alice ×2, amy ×2 — not bob's two
    assert figures["pending"] == "1"
    assert not {"balance_held", "placed_amount-today", "net_sales-today", "low_balance"} & set(
        figures
    )
    assert "dashboard-chart-money" not in html and "¥" not in html.split('id="dashboard"')[1]
    assert check_every_link(client, html) >= 15


def test_support_sees_the_queue_and_finance_the_money(client, staff, book, activity):
    business(staff, book, activity)
    support = {n for n, _v, _u in figures_in(page(client, staff["support"]))}
    assert {"pending", "running", "agents_alive", "finished_last_hour", "failed_24h"} <= support
    assert not {"balance_held", "refunds-today", "top-1"} & support
    client.logout()
    finance_html = page(client, staff["finance"])
    finance = {n for n, _v, _u in figures_in(finance_html)}
    assert {"balance_held", "refunds-today", "recharges-month", "top-1", "pending"} <= finance
    assert ("topups_pending", "2") in {(n, v) for n, v, _u in figures_in(finance_html)}
    assert "topups_pending" not in support
    assert check_every_link(client, finance_html) >= 35


def test_amounts_are_shown_as_yuan(client, staff, book, activity):
    activity.recharge(book["bob"], "1500.50")
    html = page(client, staff["superuser"])
    assert "¥4,500.50" in html  # three opening ¥1,000.00 + ¥1,500.50 recharged today


def test_staff_without_permissions_sees_no_figures(client, roles):
    html = page(client, StaffFactory(username="intern"))
    assert figures_in(html) == []


def test_refresh_recomputes_and_bad_list_parameters_do_not_crash(client, staff, book, activity):
    client.force_login(staff["superuser"])
    assert client.get(INDEX + "?refresh=1").status_code == 200
    customers = reverse("admin:customers_customer_changelist")
    assert client.get(customers + "?balance_below=abc").status_code == 200
    assert client.get(customers + "?balance_below=NaN").status_code == 200
    ledger = reverse("admin:wallet_entry_changelist")
    assert client.get(ledger + "?kinds=nonsense").status_code == 200
    agents = reverse("admin:orders_agent_changelist")
    assert client.get(agents + "?alive=maybe").status_code == 200
