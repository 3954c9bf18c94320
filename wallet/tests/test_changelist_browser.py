"""The ledger list in Debian's chromium, used with the page's own controls: search, the kind and
operator dropdowns, the customer box, date presets, combined, and the next page keeps them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation
from django.utils.text import capfirst

from core.testing import (
    choose_filter,
    click_preset,
    fill_range,
    list_rows,
    login_as,
    new_page,
    next_page,
    screenshot,
    search_list,
    submit_filters,
)
from customers.tests.factories import StaffFactory, make_customer
from wallet.admin.ledger import EntryAdmin
from wallet.models import Entry
from wallet.services import wallet_deduct, wallet_recharge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger(roles):
    """Recharges and deductions by two cashiers for two customers; one entry 20 days old."""
    cashier = StaffFactory(username="cashier", role="财务")
    other = StaffFactory(username="teller", role="财务")
    kim = make_customer(username="kim", name="金先生", mobile="13512340001")
    lee = make_customer(username="lee", name="李女士", mobile="13512340002")
    for n, (who, customer, amount) in enumerate(
        [
            (cashier, kim, "100.00"),
            (cashier, kim, "200.00"),
            (other, kim, "300.00"),
            (cashier, lee, "400.00"),
            (other, lee, "500.00"),
        ]
    ):
        wallet_recharge(
            customer_id=customer.pk, amount=amount, created_by=who, idempotency_key=f"r{n}"
        )
    wallet_deduct(
        customer_id=kim.pk, amount="50.00", created_by=cashier, idempotency_key="d1", memo="纠错"
    )
    old = Entry.objects.get(idempotency_key="r0")
    # Entries are immutable through the model; the test moves one back in time with SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Entry._meta.db_table} SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=20), old.pk],
        )
    return {"cashier": cashier, "other": other, "kim": kim, "lee": lee}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_ledger_control_works_and_survives_paging(
    browser, live_server, ledger, monkeypatch, language
):
    monkeypatch.setattr(EntryAdmin, "list_per_page", 1)
    page = new_page(browser, live_server, locale="en-US" if language == "en" else "zh-CN")
    login_as(page, live_server, ledger["cashier"])
    with translation.override(language):
        kind = str(Entry._meta.get_field("kind").verbose_name)
        recharge, deduct = str(Entry.Kind.RECHARGE.label), str(Entry.Kind.DEDUCT.label)
        customer = capfirst(translation.gettext("customer"))
        operator = translation.gettext("operator")
        created = str(Entry._meta.get_field("created_at").verbose_name)
        week = translation.gettext("Last 7 days")
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    assert page.evaluate("document.querySelector('#searchbar').form.id") == "changelist-search"
    screenshot(page, f"wallet-ledger-{language}")

    # A customer's name typed in the search box, Enter.
    search_list(page, "李女士")
    rows = list_rows(page)
    next_page(page)
    rows += list_rows(page)
    assert "q=" in page.url and len(rows) == 2 and all("李女士" in row for row in rows)

    # The kind dropdown.
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    choose_filter(page, kind, deduct)
    submit_filters(page)
    assert len(list_rows(page)) == 1 and deduct in list_rows(page)[0]

    # The customer box (a mobile) and the operator dropdown, combined.
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    page.get_by_label(customer, exact=True).fill("13512340001")
    choose_filter(page, operator, "teller")
    submit_filters(page)
    assert len(list_rows(page)) == 1 and "300.00" in list_rows(page)[0]

    # A preset keeps the kind and the customer; the old recharge is outside "last 7 days".
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    choose_filter(page, kind, recharge)
    page.get_by_label(customer, exact=True).fill("kim")
    click_preset(page, created, week)
    first = list_rows(page)
    assert len(first) == 1  # 200 and 300 are within the week: one a page
    next_page(page)
    url = page.url
    for part in ("kind__exact=recharge", "customer=kim", "created_at__range__gte="):
        assert part in url, (part, url)
    rows = first + list_rows(page)
    assert len(rows) == 2 and not any("100.00" in r for r in rows)

    # A typed date range that holds only the old entry.
    page.goto(f"{live_server.url}/admin/wallet/entry/")
    day = (timezone.localdate() - timedelta(days=20)).isoformat()
    fill_range(page, created, day, day)
    submit_filters(page)
    assert len(list_rows(page)) == 1 and "100.00" in list_rows(page)[0]
    screenshot(page, f"wallet-ledger-filtered-{language}")
