"""Admin: the "run now" action, the no-agent warnings, the Agents page; /healthz liveness."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import StaffFactory
from orders.admin.agents import NO_AGENT_ALIVE, NOTHING_TO_RUN, SKIPPED, WAKE_NOT_DELIVERED, WOKEN
from orders.agent import wakeup
from orders.agent.health import check_agents
from orders.models import Agent, Order
from orders.services import order_cancel
from orders.tests.test_agent_support import _fresh_locmem, funded_customer, place

pytestmark = pytest.mark.django_db
__all__ = ["_fresh_locmem"]

ORDERS = reverse("admin:orders_order_changelist")
AGENTS = reverse("admin:orders_agent_changelist")


def staff_with(*codenames):
    user = StaffFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def live_agent(name="agent-1", **fields):
    return Agent.objects.create(name=name, hostname="box", pid=42, **fields)


def run_now(client, orders):
    return client.post(
        ORDERS,
        {"action": "run_now", "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


@pytest.fixture
def runner_user():
    return staff_with("view_order", "run_order", "view_customer")


def test_run_now_wakes_pending_orders_and_lists_the_skipped(client, runner_user):
    live_agent()
    customer = funded_customer()
    pending = [place(customer, quantity=1) for _ in range(2)]
    cancelled = place(customer, quantity=1)
    order_cancel(order=cancelled, actor=None)
    client.force_login(runner_user)
    shown = messages_of(run_now(client, [*pending, cancelled]))
    # Without Redis the wake-up cannot be sent, and the page says the agents will poll.
    told = WOKEN if settings.REDIS_URL else WAKE_NOT_DELIVERED
    assert str(told % {"count": 2}) in shown
    assert str(SKIPPED % {"count": 1, "numbers": cancelled.number}) in shown
    assert str(NO_AGENT_ALIVE) not in shown


def test_run_now_cancels_a_retry_delay(client, runner_user):
    live_agent()
    order = place(funded_customer(), quantity=1)
    later = timezone.now() + timedelta(minutes=5)
    Order.objects.filter(pk=order.pk).update(lease_expires_at=later, last_error="supplier down")
    client.force_login(runner_user)
    run_now(client, [order])
    assert Order.objects.get(pk=order.pk).lease_expires_at is None
    call_command("run_agent", "--once", verbosity=0)
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


def test_run_now_says_plainly_when_no_agent_is_alive(client, runner_user):
    live_agent(last_heartbeat_at=timezone.now() - timedelta(minutes=5))  # dead
    live_agent(name="agent-2", stopped_at=timezone.now())  # stopped
    order = place(funded_customer(), quantity=1)
    client.force_login(runner_user)
    shown = messages_of(run_now(client, [order]))
    assert str(NO_AGENT_ALIVE) in shown


def test_run_now_with_nothing_pending(client, runner_user):
    live_agent()
    order = place(funded_customer(), quantity=1)
    order_cancel(order=order, actor=None)
    client.force_login(runner_user)
    shown = messages_of(run_now(client, [order]))
    assert str(NOTHING_TO_RUN) in shown


@pytest.mark.redis
def test_run_now_pushes_the_order_numbers_to_the_wake_list(client, runner_user):
    live_agent()
    order = place(funded_customer(), quantity=1)
    connection = wakeup.redis_connection()
    connection.delete(wakeup.wake_key())
    client.force_login(runner_user)
    shown = messages_of(run_now(client, [order]))
    assert str(WOKEN % {"count": 1}) in shown
    assert order.number.encode() in connection.lrange(wakeup.wake_key(), 0, -1)
    connection.delete(wakeup.wake_key())


def test_run_now_is_hidden_and_refused_without_the_run_permission(client):
    live_agent()
    user = staff_with("view_order", "view_customer")
    order = place(funded_customer(), quantity=1)
    client.force_login(user)
    page = client.get(ORDERS)
    assert page.status_code == 200
    assert 'value="run_now"' not in page.content.decode()
    response = run_now(client, [order])
    assert str(WAKE_NOT_DELIVERED % {"count": 1}) not in messages_of(response)


def test_the_order_list_warns_when_no_agent_is_alive(client, runner_user):
    client.force_login(runner_user)
    assert str(NO_AGENT_ALIVE) in client.get(ORDERS).content.decode()
    live_agent()
    assert str(NO_AGENT_ALIVE) not in client.get(ORDERS).content.decode()


def test_the_agents_page_shows_each_agent_and_whether_it_is_alive(client):
    admin_user = staff_with("view_agent")
    live_agent(name="alive-one", in_flight=3, processed=17)
    live_agent(name="dead-one", last_heartbeat_at=timezone.now() - timedelta(hours=1))
    client.force_login(admin_user)
    page = client.get(AGENTS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "alive-one" in html and "dead-one" in html and "box" in html
    assert html.count('alt="True"') == 1 and html.count('alt="False"') == 1
    agent = Agent.objects.get(name="alive-one")
    detail = client.get(reverse("admin:orders_agent_change", args=[agent.pk]))
    assert detail.status_code == 200 and "17" in detail.content.decode()
    assert client.get(reverse("admin:orders_agent_add")).status_code == 403
    assert client.post(reverse("admin:orders_agent_delete", args=[agent.pk])).status_code == 403
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_the_agents_page_needs_the_view_permission(client):
    live_agent()
    client.force_login(staff_with("view_order"))
    assert client.get(AGENTS).status_code == 403


def test_health_check_fails_only_when_orders_wait_and_no_agent_is_alive():
    assert check_agents() == {"agents": "ok"}  # nothing waiting
    order = place(funded_customer(), quantity=1)
    assert check_agents() == {"agents": "ok"}  # waiting, but not for long
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert check_agents()["agents"].startswith("error: no agent alive, 1 order(s) waiting")
    live_agent()
    assert check_agents() == {"agents": "ok"}


def test_healthz_includes_agent_liveness(client, settings):
    settings.HEALTH_CHECKS = [*settings.HEALTH_CHECKS, "orders.agent.health.check_agents"]
    order = place(funded_customer(), quantity=1)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["agents"]
    live_agent()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["checks"]["agents"] == "ok"


def test_an_agent_s_orders_in_flight_link_to_the_orders_it_holds(client):
    from orders.agent.claim import claim_due

    customer = funded_customer()
    held, other = place(customer, quantity=1), place(customer, quantity=1)
    claim_due(agent="agent-1", limit=1, prefer=[held.number])
    claim_due(agent="agent-2", limit=1)
    live_agent(name="agent-1", in_flight=1)
    client.force_login(staff_with("view_agent", "view_order", "view_customer"))
    page = client.get(AGENTS).content.decode()
    link = (
        reverse("admin:orders_order_changelist") + "?status__exact=running&amp;lease_owner=agent-1"
    )
    assert link in page
    listing = client.get(link.replace("&amp;", "&"))
    assert listing.status_code == 200
    assert held.number in listing.content.decode()
    assert other.number not in listing.content.decode()
