"""Agent and backend messages on the order timeline, and run_agent's lines, in the viewer's
language: stored as a source string with parameters, translated when shown."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from core.testing import new_page, screenshot
from customers.tests.factories import StaffFactory
from orders.agent.runner import RunStats
from orders.fulfilment import FulfilmentResult, Outcome, locmem
from orders.fulfilment.simulated import SIMULATED_PARTIAL
from orders.models import OrderEvent
from orders.services import order_fail
from orders.tests.factories import ServiceFactory
from orders.tests.test_agent_support import funded_customer, place

PARTIAL_BACKEND = {
    "simulated": {
        "BACKEND": "orders.fulfilment.simulated.SimulatedBackend",
        "OPTIONS": {"duration": 0, "partial_rate": 1.0, "failure_rate": 0.0, "seed": 1},
    },
    "locmem": {"BACKEND": "orders.fulfilment.locmem.LocmemBackend"},
}
ZH_PARTIAL = "模拟部分完成：共 1000，完成 "
EN_PARTIAL = "Simulated partial delivery: "


@pytest.fixture
def partial_order(db, settings):
    """A 1000-unit order the simulated backend partly delivered, through a real agent run."""
    settings.FULFILMENT_BACKENDS = PARTIAL_BACKEND
    customer = funded_customer(balance="2000.00")
    order = place(customer, ServiceFactory(backend="simulated", tiers=[(1, "1.00")]), 1000)
    call_command("run_agent", "--once", "--name", "t1", stdout=StringIO())
    order.refresh_from_db()
    assert order.status == "partial"
    return customer, order


def test_the_event_stores_the_source_string_and_its_parameters(partial_order):
    _customer, order = partial_order
    event = order.events.get(to_status="partial")
    assert event.message == SIMULATED_PARTIAL
    assert event.message_params == {"delivered": order.delivered_quantity, "quantity": 1000}
    with translation.override("zh-hans"):
        assert event.display_message == f"{ZH_PARTIAL}{order.delivered_quantity}。"
    with translation.override("en"):
        assert event.display_message == f"{EN_PARTIAL}{order.delivered_quantity} of 1000."


def test_the_portal_timeline_shows_it_in_the_customer_s_language(client, partial_order):
    customer, order = partial_order
    client.force_login(customer.user)
    url = reverse("portal:order_detail", args=[order.number])
    chinese = client.get(url).content.decode()
    assert ZH_PARTIAL in chinese and EN_PARTIAL not in chinese
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert f"{EN_PARTIAL}{order.delivered_quantity} of 1000." in english
    assert ZH_PARTIAL not in english


def test_the_admin_timeline_shows_it_in_the_staff_member_s_language(client, partial_order):
    _customer, order = partial_order
    client.force_login(StaffFactory(is_superuser=True))
    url = reverse("admin:orders_order_change", args=[order.pk])
    assert ZH_PARTIAL in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    timeline = english[english.index('id="events-group"') :]
    assert EN_PARTIAL in timeline and ZH_PARTIAL not in timeline
    # The refund's memo in the ledger above is an immutable record, in the site's language.
    ledger = english[: english.index('id="events-group"')]
    assert ZH_PARTIAL in ledger


def test_agent_messages_follow_the_language_too(db):
    customer = funded_customer()
    order = place(customer, quantity=1)
    locmem.script(order.number, RuntimeError("supplier down"))
    call_command("run_agent", "--once", "--name", "t1", stdout=StringIO())
    released = order.events.get(to_status="pending", from_status="running")
    with translation.override("en"):
        assert released.display_message == (
            "Fulfilment backend error, will retry: RuntimeError: supplier down"
        )
    with translation.override("zh-hans"):
        assert released.display_message == "执行后端出错，将重试：RuntimeError: supplier down"


def test_free_text_and_old_events_are_shown_as_written(db):
    customer = funded_customer()
    order = place(customer, quantity=1)
    old = OrderEvent.objects.create(order=order, to_status="pending", message="completed 9")
    assert old.message_params is None
    with translation.override("zh-hans"):
        assert old.display_message == "completed 9"  # literal, never looked up in a catalogue
    # A supplier's own words are literal too, whatever they look like.
    locmem.script(order.number, FulfilmentResult(outcome=Outcome.FAILED, message="%(x)s gone"))
    call_command("run_agent", "--once", "--name", "t1", stdout=StringIO())
    assert order.events.get(to_status="failed").display_message == "%(x)s gone"


def test_a_broken_parameter_set_still_shows_the_message(db):
    customer = funded_customer()
    order = order_fail(
        order=place(customer, quantity=1),
        message=SIMULATED_PARTIAL,
        message_params={"wrong": 1},
        expected="pending",
    )
    assert order.events.last().display_message == SIMULATED_PARTIAL


def test_run_agent_summary_and_lines_in_both_languages(partial_order):
    stats = RunStats()
    stats.outcomes.update({"completed": 9, "partial": 1})
    with translation.override("en"):
        assert "(completed 9, partially completed 1)" in stats.summary()
    with translation.override("zh-hans"):
        assert "（已完成 9，部分完成 1）" in stats.summary()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_reads_the_timeline_in_chinese_then_in_english(
    browser, live_server, client, settings
):
    settings.FULFILMENT_BACKENDS = PARTIAL_BACKEND
    customer = funded_customer(balance="2000.00")
    order = place(customer, ServiceFactory(backend="simulated", tiers=[(1, "1.00")]), 1000)
    call_command("run_agent", "--once", "--name", "t1", stdout=StringIO())
    client.force_login(customer.user)
    page = new_page(browser, live_server)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}{reverse('portal:order_detail', args=[order.number])}")
    timeline = page.locator("#timeline")
    assert ZH_PARTIAL in timeline.inner_text()
    screenshot(page, "orders-timeline-zh")

    page.select_option("#language-select", "en")
    page.wait_for_selector("html[lang=en]")
    text = page.locator("#timeline").inner_text()
    assert EN_PARTIAL in text and ZH_PARTIAL not in text
    screenshot(page, "orders-timeline-en")


def test_migration_0004_makes_old_agent_messages_translatable(db):
    """Events written before 0003 (rendered text) are rewritten when a known message matches."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("orders.migrations.0005_event_messages_translatable")
    order = place(funded_customer(), quantity=1)

    def old(message, agent="a1", **fields):
        return OrderEvent.objects.create(
            order=order, to_status="partial", agent=agent, message=message, **fields
        )

    partial = old("simulated partial delivery: 823 of 1000")
    retry = old("执行后端出错，将重试：RuntimeError: down")
    refused = old("supplier refused the order: HTTP 403 (target is private)")
    supplier_words = old("3 could not be delivered")
    staff_reason = old("simulated failure", agent="", actor=StaffFactory())

    migration.forwards(apps, SimpleNamespace(connection=connection))

    for event in (partial, retry, refused, supplier_words, staff_reason):
        event.refresh_from_db()
    assert (partial.message, partial.message_params) == (
        SIMULATED_PARTIAL,
        {"delivered": 823, "quantity": 1000},
    )
    with translation.override("en"):
        assert partial.display_message == "Simulated partial delivery: 823 of 1000."
        assert retry.display_message == "Fulfilment backend error, will retry: RuntimeError: down"
        assert refused.display_message == (
            "The supplier refused the order: HTTP 403 (target is private)"
        )
    with translation.override("zh-hans"):
        assert partial.display_message == "模拟部分完成：共 1000，完成 823。"
    assert supplier_words.message_params is None  # unknown text stays literal
    assert staff_reason.message_params is None  # written by a person: never rewritten

    migration.backwards(apps, SimpleNamespace(connection=connection))
    partial.refresh_from_db()
    assert (partial.message, partial.message_params) == (
        "Simulated partial delivery: 823 of 1000.",
        None,
    )
