"""The customer and level lists in Debian's chromium, used with the page's own controls.

Type into the search box and press Enter, pick each filter from its dropdown, click a date
preset, combine them, and page on: each step checks the rows the page then shows.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from core.testing import (
    choose_filter,
    click_preset,
    list_rows,
    login_as,
    new_page,
    next_page,
    screenshot,
    search_list,
    submit_filters,
)
from customers.admin.customers import CustomerAdmin
from customers.admin.levels import LevelAdmin
from customers.models import Customer, Level
from customers.tests.factories import LevelFactory, StaffFactory, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _usernames(page) -> set[str]:
    return {row.split()[0] for row in list_rows(page) if row.strip()}


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


@pytest.fixture
def people(roles):
    """Six customers of two managers on two levels; one inactive, one created long ago."""
    m1 = StaffFactory(username="mgr1", role="客户经理")
    m2 = StaffFactory(username="mgr2", role="客户经理")
    gold, silver = LevelFactory(name="黄金"), LevelFactory(name="白银")
    made = {
        "ann": make_customer(username="ann", mobile="13911110001", level=gold, account_manager=m1),
        "amy": make_customer(username="amy", mobile="13911110002", level=gold, account_manager=m1),
        "abe": make_customer(
            username="abe", mobile="13911110003", level=silver, account_manager=m1
        ),
        "bob": make_customer(username="bob", mobile="13722220001", level=gold, account_manager=m2),
        "ben": make_customer(
            username="ben", mobile="13722220002", level=silver, account_manager=m2, is_active=False
        ),
        "old": make_customer(username="old", mobile="13633330001", level=gold, account_manager=m2),
    }
    Customer.objects.filter(pk=made["old"].pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    return {"m1": m1, "m2": m2, **made}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_customer_control_works_and_survives_paging(
    browser, live_server, people, monkeypatch, language
):
    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    admin = StaffFactory(username="root", is_superuser=True)
    page = new_page(browser, live_server, locale="en-US" if language == "en" else "zh-CN")
    login_as(page, live_server, admin)
    with translation.override(language):
        level, manager = _label(Customer, "level"), _label(Customer, "account_manager")
        active, created = _label(Customer, "is_active"), _label(Customer, "created_at")
        yes, no = translation.gettext("Yes"), translation.gettext("No")
        week, month = translation.gettext("Last 7 days"), translation.gettext("Last 30 days")
    page.goto(f"{live_server.url}/admin/customers/customer/")
    assert page.evaluate("document.querySelector('#searchbar').form.id") == "changelist-search"
    screenshot(page, f"customers-list-{language}")

    # The start of a mobile, typed, then Enter.
    search_list(page, "1391111")
    assert _usernames(page) | set() <= {"ann", "amy", "abe"} and len(list_rows(page)) == 2
    next_page(page)
    assert len(list_rows(page)) == 1 and "q=1391111" in page.url

    # Each filter from its dropdown.
    page.goto(f"{live_server.url}/admin/customers/customer/")
    choose_filter(page, level, "白银")
    submit_filters(page)
    assert _usernames(page) == {"abe", "ben"}

    page.goto(f"{live_server.url}/admin/customers/customer/")
    choose_filter(page, active, no)
    submit_filters(page)
    assert _usernames(page) == {"ben"}

    page.goto(f"{live_server.url}/admin/customers/customer/")
    choose_filter(page, manager, "mgr2")
    submit_filters(page)
    shown = _usernames(page)
    next_page(page)
    assert shown | _usernames(page) == {"bob", "ben", "old"}

    # Presets: the customer created 40 days ago is outside "last 30 days", inside nothing newer.
    page.goto(f"{live_server.url}/admin/customers/customer/")
    click_preset(page, created, month)
    shown = _usernames(page)
    next_page(page)
    assert "old" not in shown | _usernames(page)

    # Combined: manager + level + active + a preset + a search, then the next page.
    page.goto(f"{live_server.url}/admin/customers/customer/")
    choose_filter(page, manager, "mgr1")
    choose_filter(page, level, "黄金")
    choose_filter(page, active, yes)
    page.locator("#searchbar").fill("139")
    click_preset(page, created, week)
    assert _usernames(page) == {"ann", "amy"}
    for part in ("account_manager__id__exact=", "level__id__exact=", "is_active__exact=1", "q=139"):
        assert part in page.url, (part, page.url)
    screenshot(page, f"customers-list-filtered-{language}")


def test_an_account_manager_sees_only_their_customers_whatever_they_type(
    browser, live_server, people
):
    page = new_page(browser, live_server)
    login_as(page, live_server, people["m1"])
    page.goto(f"{live_server.url}/admin/customers/customer/")
    assert _usernames(page) == {"ann", "amy", "abe"}
    assert page.locator("label.core-filter-label", has_text="客户经理").count() == 0
    search_list(page, "1372222")  # the other manager's customers' mobiles
    assert _usernames(page) == set()
    search_list(page, "bob")
    assert _usernames(page) == set()


def test_the_level_list_searches_filters_and_pages(browser, live_server, roles, monkeypatch):
    monkeypatch.setattr(LevelAdmin, "list_per_page", 1)
    for name, active in (("金卡", True), ("金卡二", True), ("金卡旧", False), ("普通", True)):
        LevelFactory(name=name, is_active=active)
    admin = StaffFactory(username="root", is_superuser=True)
    page = new_page(browser, live_server)
    login_as(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/customers/level/")
    search_list(page, "金卡")
    choose_filter(page, _label(Level, "is_active"), "是")
    submit_filters(page)
    first = list_rows(page)
    assert len(first) == 1
    next_page(page)
    second = list_rows(page)
    assert "q=" in page.url and "is_active__exact=1" in page.url
    names = {row.split()[0] for row in first + second}
    assert names == {"金卡", "金卡二"}
    screenshot(page, "customers-levels")
