"""The dashboard's figures on a real database, after business done through the services."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from backoffice import selectors as s
from backoffice.dashboard import dashboard_figures, dashboard_for
from orders.models import Agent

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def cell(figures, row: str, period: str):
    for r in figures["rows"]:
        if r["key"] == row:
            return next(c for c in r["cells"] if c["period"] == period)
    raise KeyError(row)


def value(figures, row: str, period: str = "today"):
    return cell(figures, row, period)["value"]


def test_window_covers_this_month_and_thirty_local_days():
    now = datetime(2026, 3, 1, 1, 30, tzinfo=SHANGHAI)  # 2026-02-28 17:30 UTC
    window = s.dashboard_window(now)
    assert window.days[-1].isoformat() == "2026-03-01"
    assert len(window.days) == 30 and len(window.chart_days) == 30
    assert window.days[0].isoformat() == "2026-01-31"
    today, yesterday, month = (window.period(k) for k in s.PERIODS)
    assert today.start == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert today.end == datetime(2026, 3, 2, tzinfo=SHANGHAI)
    assert yesterday.first.isoformat() == "2026-02-28"
    assert (month.first, month.last) == (today.first, today.first)
    late = s.dashboard_window(datetime(2026, 3, 31, 23, 0, tzinfo=SHANGHAI))
    assert late.days[0].isoformat() == "2026-03-01"  # the month reaches further than 30 days
    assert len(late.days) == 31 and len(late.chart_days) == 30


def test_period_figures_follow_the_services(staff, book, activity):
    alice, bob = book["alice"], book["bob"]
    done = [activity.place(alice) for _ in range(5)]  # 5 × ¥8.00
    activity.cancel(done[0], by=staff["support"])  # cancel refund 8.00
    activity.complete(done[1])
    activity.partial(done[2])  # refund 4.00
    activity.fail(done[3])  # refund 8.00
    activity.place(bob, quantity=10_000)  # ¥70.00, still pending
    activity.recharge(bob, "250.50", by=staff["finance"])
    activity.deduct(alice, "1.25", by=staff["finance"])

    figures = dashboard_figures(staff["superuser"])
    assert value(figures, "placed") == 6
    assert [value(figures, st) for st in ("completed", "partial", "failed", "cancelled")] == [
        1,
        1,
        1,
        1,
    ]
    assert value(figures, "placed_amount") == Decimal("110.00")
    assert value(figures, "refunds") == Decimal("20.00")
    assert value(figures, "net_sales") == Decimal("90.00")
    assert value(figures, "recharges") == Decimal("3250.50")  # 3 opening ¥1,000 + 250.50
    assert value(figures, "deductions") == Decimal("1.25")
    # Nothing happened yesterday; the month includes today.
    assert value(figures, "placed", "yesterday") == 0
    assert value(figures, "net_sales", "month") == Decimal("90.00")

    now = figures["now"]
    assert now["balance_held"]["value"] == Decimal("3250.50") - Decimal("90.00") - Decimal("1.25")
    assert now["pending"]["value"] == 2 and now["running"]["value"] == 0
    assert now["oldest_pending"]["number"] == done[4].number
    assert now["finished_last_hour"]["value"] == 4
    assert now["failure_rate"]["rate"] == Decimal("33.3")  # 1 failed of 3 the agents finished
    assert now["failure_rate"]["attempted"]["value"] == 3
    assert figures["charts"]["orders"]["completed"][-1] == 1
    assert figures["charts"]["money"]["net_sales"][-1] == "90.00"


def test_days_move_at_local_midnight(staff, book, activity):
    order = activity.place(book["alice"])
    activity.complete(order)
    tomorrow = timezone.now() + timedelta(days=1)
    figures = dashboard_figures(staff["superuser"], tomorrow)
    assert value(figures, "placed") == 0
    assert value(figures, "placed", "yesterday") == 1
    assert value(figures, "completed", "yesterday") == 1
    assert value(figures, "placed_amount", "yesterday") == Decimal("8.00")
    assert figures["charts"]["orders"]["completed"][-2:] == [1, 0]
    later = dashboard_figures(staff["superuser"], timezone.now() + timedelta(days=70))
    assert all(c["value"] == 0 for row in later["rows"] for c in row["cells"])


def test_manager_counts_only_their_customers(staff, book, activity):
    activity.place(book["alice"])
    activity.place(book["amy"])
    for _ in range(3):
        activity.place(book["bob"])
    mine = dashboard_figures(staff["manager"])
    theirs = dashboard_figures(staff["manager2"])
    everyone = dashboard_figures(staff["superuser"])
    assert (value(mine, "placed"), value(theirs, "placed"), value(everyone, "placed")) == (2, 3, 5)
    assert mine["now"]["pending"]["value"] == 2 and theirs["now"]["pending"]["value"] == 3
    # Managers hold no ledger permission: no money figures at all.
    assert mine["show"]["money"] is False and mine["lists"] is None
    assert "balance_held" not in mine["now"]
    assert not any(row["money"] for row in mine["rows"])


def test_money_only_for_the_ledger_readers_and_support_sees_the_queue(staff, book, activity):
    activity.place(book["alice"])
    support = dashboard_figures(staff["support"])
    assert support["show"] == {"orders": True, "money": False, "agents": True}
    assert support["now"]["pending"]["value"] == 1 and "agents_alive" in support["now"]
    assert support["lists"] is None and "money" not in support["charts"]
    finance = dashboard_figures(staff["finance"])
    assert finance["show"]["money"] and value(finance, "placed_amount") == Decimal("8.00")


def test_low_balance_and_top_customers(staff, book, activity, settings):
    settings.DASHBOARD_LOW_BALANCE = Decimal("995.00")
    activity.place(book["alice"])  # 992.00 left
    activity.place(book["bob"], quantity=10_000)  # 930.00 left
    activity.place(book["bob"])  # 922.00 left
    cancelled = activity.place(book["amy"])
    activity.cancel(cancelled)  # amy: back to 1000.00, spent nothing
    lists = dashboard_figures(staff["superuser"])["lists"]
    assert lists["low_balance"]["count"]["value"] == 2
    assert [r["username"] for r in lists["low_balance"]["rows"]] == ["bob", "alice"]
    assert [(r["username"], r["spend"]) for r in lists["top_spenders"]] == [
        ("bob", Decimal("78.00")),
        ("alice", Decimal("8.00")),
    ]


def test_agents_alive_uses_the_heartbeat(staff):
    Agent.objects.create(name="a1", hostname="h", pid=1)
    Agent.objects.create(
        name="a2", hostname="h", pid=2, last_heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert dashboard_figures(staff["superuser"])["now"]["agents_alive"]["value"] == 1


def test_closed_days_come_from_the_cache_and_today_is_live(staff, book, activity):
    activity.place(book["alice"])
    activity.place(book["amy"])
    manager = staff["manager"]
    later = timezone.now() + timedelta(days=1, hours=1)  # today's rows lie in a closed day
    cached = dashboard_figures(manager, later, cached=True)
    assert cached["rows"] == dashboard_figures(manager, later)["rows"]
    assert cached["charts"] == dashboard_figures(manager, later)["charts"]
    # The closed days are read from the cache now: a row written "in the past" is not seen
    # (the services never write one; ``?refresh=1`` and dashboard_verify recount everything).
    activity.place(book["alice"])
    assert dashboard_figures(manager, later, cached=True)["rows"] == cached["rows"]
    assert dashboard_figures(manager, later)["rows"] != cached["rows"]
    # Today is always counted live.
    assert value(dashboard_figures(manager, cached=True), "placed") == 3
    activity.place(book["amy"])
    assert value(dashboard_figures(manager, cached=True), "placed") == 4


@override_settings(DASHBOARD_CACHE_SECONDS=30)
def test_page_cache_is_per_scope_and_refresh_recomputes(staff, book, activity):
    activity.place(book["alice"])
    assert value(dashboard_for(staff["manager"]), "placed") == 1
    assert value(dashboard_for(staff["manager2"]), "placed") == 0
    activity.place(book["alice"])
    assert value(dashboard_for(staff["manager"]), "placed") == 1  # cached for a few seconds
    assert value(dashboard_for(staff["manager"], refresh=True), "placed") == 2


def test_oldest_pending_of_a_manager_walks_past_other_books(staff, book, activity, monkeypatch):
    monkeypatch.setattr(s, "OLDEST_BATCH", 2)
    monkeypatch.setattr(s, "OLDEST_BATCHES", 2)
    for _ in range(3):
        activity.place(book["bob"])  # older, but manager2's
    mine = activity.place(book["amy"])
    activity.place(book["alice"])
    assert s.oldest_pending(staff["manager"]).pk == mine.pk  # found in the second batch
    for _ in range(3):
        activity.cancel(activity.place(book["bob"]))
    monkeypatch.setattr(s, "OLDEST_BATCHES", 1)  # not in the first batch: the plain query
    assert s.oldest_pending(staff["manager"]).pk == mine.pk
    assert s.oldest_pending(staff["manager2"]).customer_id == book["bob"].pk
    assert s.oldest_pending(staff["superuser"]).customer_id == book["bob"].pk
    activity.cancel(mine)
    assert s.oldest_pending(staff["manager"]).customer_id == book["alice"].pk
