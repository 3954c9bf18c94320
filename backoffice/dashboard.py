"""The admin index's dashboard: the figures a staff user may see, each with its filtered list.

``dashboard_for(user)`` asks the selectors for the figures the user's permissions allow and
pairs each with the admin list URL behind it (``backoffice.links``). The result holds only
numbers, dates and URLs, so it is cached briefly (``DASHBOARD_CACHE_SECONDS``) per scope and
permission set; labels are attached when the page renders, in the page's language.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from backoffice import links
from backoffice import selectors as s
from core.cache import shortcut
from customers.selectors import customer_sees_all
from wallet.selectors import topups_pending_count

Status = s.Status
Kind = s.Kind
CACHE_PREFIX = "backoffice:dashboard:v1"
# A day's figures are cached once it ended this long ago (late commits have landed by then).
SETTLE = timedelta(minutes=5)
CLOSED_DAYS_SECONDS = 26 * 3600

# The money rows of the today / yesterday / this month table, after the order rows.
MONEY_ROWS = ("placed_amount", "refunds", "net_sales", "recharges", "deductions")


def can_see_orders(user: AbstractBaseUser) -> bool:
    return user.has_perm("orders.view_order")


def can_see_money(user: AbstractBaseUser) -> bool:
    """Money figures come from the ledger: only for those who may read it."""
    return user.has_perm("wallet.view_entry")


def can_see_agents(user: AbstractBaseUser) -> bool:
    return user.has_perm("orders.view_agent")


def can_see_topups(user: AbstractBaseUser) -> bool:
    return user.has_perm("wallet.view_topuprequest")


def _cell(value, url: str, **extra) -> dict:
    return {"value": value, "url": url, **extra}


def _period_rows(window: s.Window, placed, finished, series) -> list[dict]:
    periods = [window.period(key) for key in s.PERIODS]
    rows = []
    if placed is not None:
        rows.append(
            {
                "key": "placed",
                "money": False,
                "cells": [
                    _cell(
                        s.period_total(placed, window, p),
                        links.orders_created(p.first, p.last),
                        period=p.key,
                    )
                    for p in periods
                ],
            }
        )
        for status in s.FINAL_STATUSES:
            rows.append(
                {
                    "key": str(status),
                    "money": False,
                    "cells": [
                        _cell(
                            s.period_total(finished[status], window, p),
                            links.orders_finished(status, p.first, p.last),
                            period=p.key,
                        )
                        for p in periods
                    ],
                }
            )
    if series is not None:
        ledger_filters = {
            "placed_amount": ("debits", {"kind__exact": Kind.ORDER_DEBIT}),
            "refunds": ("refunds", {"kinds": "refunds"}),
            "net_sales": ("net_sales", {"kinds": "sales"}),
            "recharges": ("recharges", {"kind__exact": Kind.RECHARGE}),
            "deductions": ("deductions", {"kind__exact": Kind.DEDUCT}),
        }
        for key in MONEY_ROWS:
            name, params = ledger_filters[key]
            rows.append(
                {
                    "key": key,
                    "money": True,
                    "cells": [
                        _cell(
                            s.period_total(series[name], window, p),
                            links.ledger(p.first, p.last, **{k: str(v) for k, v in params.items()}),
                            period=p.key,
                        )
                        for p in periods
                    ],
                }
            )
    return rows


def _right_now(user, window: s.Window, orders: bool, money: bool, agents: bool) -> dict:
    now = window.now
    figures: dict = {}
    if money:
        figures["balance_held"] = _cell(s.balance_held(user), links.ledger())
    if orders:
        queue = s.order_queue(user)
        figures["pending"] = _cell(queue["pending"], links.orders_in_status(Status.PENDING))
        figures["running"] = _cell(queue["running"], links.orders_in_status(Status.RUNNING))
        oldest = queue["oldest_pending"]
        figures["oldest_pending"] = (
            {
                "number": oldest.number,
                "created_at": oldest.created_at,
                "url": links.order_page(oldest.pk),
            }
            if oldest
            else None
        )
        hour_ago = now - timedelta(hours=1)
        last_hour = s.orders_finished_between(user, hour_ago, now)
        figures["finished_last_hour"] = _cell(
            sum(last_hour.values()), links.orders_finished_between(s.FINAL_STATUSES, hour_ago, now)
        )
        day_ago = now - timedelta(hours=24)
        last_day = s.orders_finished_between(user, day_ago, now)
        figures["failure_rate"] = {
            "rate": s.failure_rate(last_day),
            "failed": _cell(
                last_day[Status.FAILED],
                links.orders_finished_between((Status.FAILED,), day_ago, now),
            ),
            "attempted": _cell(
                sum(last_day[st] for st in s.DELIVERY_STATUSES),
                links.orders_finished_between(s.DELIVERY_STATUSES, day_ago, now),
            ),
        }
    if agents:
        figures["agents_alive"] = _cell(s.agents_alive_count(), links.agents_alive())
    if can_see_topups(user):
        figures["topups_pending"] = _cell(topups_pending_count(user), links.topups_pending())
    return figures


def _charts(window: s.Window, finished, series) -> dict:
    days = window.chart_days
    offset = len(window.days) - len(days)
    charts: dict = {"days": [d.isoformat() for d in days]}
    if finished is not None:
        charts["orders"] = {str(st): finished[st][offset:] for st in s.FINAL_STATUSES}
    if series is not None:
        charts["money"] = {
            "net_sales": [str(v) for v in series["net_sales"][offset:]],
            "recharges": [str(v) for v in series["recharges"][offset:]],
        }
    return charts


def _lists(user, window: s.Window) -> dict:
    threshold = Decimal(settings.DASHBOARD_LOW_BALANCE)
    count, lowest = s.low_balance_customers(user, threshold)
    month = window.period("month")
    top = s.top_spenders(user, month)
    for row in lowest:
        row["url"] = links.customer_page(row["customer_id"])
    for row in top:
        row["url"] = links.ledger(
            month.first, month.last, customer=str(row["customer_id"]), kinds="sales"
        )
    return {
        "threshold": threshold,
        "low_balance": {"count": _cell(count, links.customers_below(threshold)), "rows": lowest},
        "top_spenders": top,
    }


def _series_on(user, window: s.Window, days: range, orders: bool, money: bool) -> dict:
    return {
        "placed": s.orders_placed_by_day(user, window, days) if orders else None,
        "finished": s.orders_finished_by_day(user, window, days) if orders else None,
        "ledger": s.ledger_by_day(user, window, days) if money else None,
    }


def _add(a, b):
    """Two day-by-day series (or dicts of them) added day by day."""
    if a is None:
        return None
    if isinstance(a, dict):
        return {key: _add(a[key], b[key]) for key in a}
    return [x + y for x, y in zip(a, b, strict=True)]


def _series(user, window: s.Window, orders: bool, money: bool, cached: bool) -> dict:
    """The day-by-day series; with ``cached``, the closed days come from the cache.

    A day's rows never change once it is over (every timestamp is the time of writing), so its
    figures are kept until midnight under a key naming the user's scope; a day counts as
    closed only ``SETTLE`` after midnight, once transactions begun before it have committed.
    """
    everything = range(len(window.days))
    if not cached:
        return _series_on(user, window, everything, orders, money)
    today = len(window.days) - 1
    settled = window.now - window.bounds[today] >= SETTLE
    closed = range(0, today if settled else max(today - 1, 0))
    flags = f"{int(orders)}{int(money)}"
    key = (
        f"{CACHE_PREFIX}:closed:{s.scope_fingerprint(user)}:{flags}:"
        f"{window.days[0].isoformat()}:{window.days[closed.stop].isoformat()}"
    )
    past = shortcut("get", key)
    if past is None:
        past = _series_on(user, window, closed, orders, money)
        shortcut("set", key, past, CLOSED_DAYS_SECONDS)
    live = _series_on(user, window, range(closed.stop, len(window.days)), orders, money)
    return {name: _add(past[name], live[name]) for name in live}


def dashboard_figures(user: AbstractBaseUser, now=None, *, cached: bool = False) -> dict:
    """Every figure the user may see, from the tables (closed days from the cache if asked)."""
    window = s.dashboard_window(now)
    orders, money, agents = can_see_orders(user), can_see_money(user), can_see_agents(user)
    series = _series(user, window, orders, money, cached)
    placed, finished = series["placed"], series["finished"]
    money_series = s.money_by_day(series["ledger"]) if money else None
    return {
        "as_of": window.now,
        "show": {"orders": orders, "money": money, "agents": agents},
        "periods": [
            {"key": p.key, "first": p.first, "last": p.last}
            for p in (window.period(k) for k in s.PERIODS)
        ],
        "rows": _period_rows(window, placed, finished, money_series),
        "now": _right_now(user, window, orders, money, agents),
        "charts": _charts(window, finished, money_series),
        "lists": _lists(user, window) if money else None,
    }


def _cache_key(user: AbstractBaseUser) -> str:
    scope = "all" if customer_sees_all(user) else f"user{user.pk}"
    flags = "".join(
        "1" if allowed else "0"
        for allowed in (
            can_see_orders(user),
            can_see_money(user),
            can_see_agents(user),
            can_see_topups(user),
        )
    )
    return f"{CACHE_PREFIX}:{scope}:{flags}:{timezone.localdate().isoformat()}"


def dashboard_for(user: AbstractBaseUser, *, refresh: bool = False) -> dict:
    """The dashboard's figures, from the cache when computed less than a few seconds ago."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return dashboard_figures(user)
    key = _cache_key(user)
    figures = None if refresh else shortcut("get", key)
    if figures is None:
        figures = dashboard_figures(user, cached=not refresh)
        shortcut("set", key, figures, seconds)
    return figures
