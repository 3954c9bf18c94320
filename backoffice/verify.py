"""Recompute the dashboard a second way and list every figure that disagrees.

The dashboard adds up in SQL (a ``CASE`` over local midnights, grouped). This module reads the
same rows one by one and buckets them in Python by ``timezone.localdate``; the balance held is
checked against the ledger's sum (money rule 2) as well as the accounts. ``manage.py
dashboard_verify`` and the consistency tests use it.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Sum
from django.utils import timezone

from backoffice import selectors as s
from backoffice.dashboard import can_see_money, can_see_orders, dashboard_figures

Status = s.Status
Kind = s.Kind


def _day_index(window: s.Window, moment: datetime) -> int:
    return window.days.index(timezone.localdate(moment))


def _recompute_rows(user, window: s.Window) -> dict[tuple[str, str], object]:
    """{(row key, period key): value} counted row by row."""
    periods = [window.period(k) for k in s.PERIODS]
    per_day: dict[str, list] = {}
    if can_see_orders(user):
        orders = s.dashboard_orders(user)
        placed = [0] * len(window.days)
        stamps = orders.filter(created_at__gte=window.start, created_at__lt=window.end)
        for created in stamps.values_list("created_at", flat=True).iterator():
            placed[_day_index(window, created)] += 1
        per_day["placed"] = placed
        finished = {st: [0] * len(window.days) for st in s.FINAL_STATUSES}
        done = orders.filter(finished_at__gte=window.start, finished_at__lt=window.end)
        for status, at in done.values_list("status", "finished_at").iterator():
            if status in finished:
                finished[status][_day_index(window, at)] += 1
        per_day.update({str(st): counts for st, counts in finished.items()})
    if can_see_money(user):
        sums = defaultdict(lambda: [Decimal("0.00")] * len(window.days))
        entries = s.dashboard_entries(user).filter(
            created_at__gte=window.start, created_at__lt=window.end
        )
        for kind, amount, at in entries.values_list("kind", "amount", "created_at").iterator():
            sums[kind][_day_index(window, at)] += amount
        n = range(len(window.days))
        per_day["placed_amount"] = [-sums[Kind.ORDER_DEBIT][i] for i in n]
        per_day["refunds"] = [sums[Kind.CANCEL_REFUND][i] + sums[Kind.REFUND][i] for i in n]
        per_day["net_sales"] = [
            -(sums[Kind.ORDER_DEBIT][i] + sums[Kind.CANCEL_REFUND][i] + sums[Kind.REFUND][i])
            for i in n
        ]
        per_day["recharges"] = [sums[Kind.RECHARGE][i] for i in n]
        per_day["deductions"] = [-sums[Kind.DEDUCT][i] for i in n]
    return {
        (key, p.key): sum(series[i] for i in window.indexes(p))
        for key, series in per_day.items()
        for p in periods
    }


def _recompute_now(user, window: s.Window) -> dict[str, object]:
    figures: dict[str, object] = {}
    if can_see_money(user):
        ledger_total = s.dashboard_entries(user).aggregate(t=Sum("amount"))["t"] or Decimal("0")
        accounts = list(s.dashboard_accounts(user).values_list("balance", flat=True))
        if sum(accounts, Decimal("0")) != ledger_total:
            figures["balance_held (accounts vs ledger)"] = ledger_total
        figures["balance_held"] = ledger_total
    if can_see_orders(user):
        orders = s.dashboard_orders(user)
        statuses = list(
            orders.filter(status__in=[Status.PENDING, Status.RUNNING]).values_list(
                "status", flat=True
            )
        )
        figures["pending"] = statuses.count(Status.PENDING)
        figures["running"] = statuses.count(Status.RUNNING)
    return figures


def dashboard_differences(user: AbstractBaseUser, now: datetime | None = None) -> list[str]:
    """Every figure of ``user``'s dashboard that the row-by-row recount does not reproduce."""
    now = now or timezone.now()
    window = s.dashboard_window(now)
    shown = dashboard_figures(user, now)
    problems = []
    expected = _recompute_rows(user, window)
    got = {
        (row["key"], cell["period"]): cell["value"]
        for row in shown["rows"]
        for cell in row["cells"]
    }
    for key in sorted(set(expected) | set(got)):
        if expected.get(key) != got.get(key):
            problems.append(
                f"{key[1]} {key[0]}: dashboard {got.get(key)} ≠ rows {expected.get(key)}"
            )
    for name, value in _recompute_now(user, window).items():
        figure = shown["now"].get(name, {}).get("value") if name in shown["now"] else None
        if figure != value:
            problems.append(f"{name}: dashboard {figure} ≠ recount {value}")
    if shown["lists"] is not None:
        problems += _list_differences(user, window, shown["lists"])
    return problems


def _list_differences(user, window: s.Window, lists: dict) -> list[str]:
    problems = []
    below = [
        b
        for b in s.dashboard_accounts(user).values_list("balance", flat=True)
        if b < lists["threshold"]
    ]
    if len(below) != lists["low_balance"]["count"]["value"]:
        problems.append(
            f"low balance: dashboard {lists['low_balance']['count']['value']} ≠ {len(below)}"
        )
    month = window.period("month")
    spend: dict[int, Decimal] = defaultdict(Decimal)
    entries = s.dashboard_entries(user).filter(
        kind__in=s.SALES_KINDS, created_at__gte=month.start, created_at__lt=month.end
    )
    for customer_id, amount in entries.values_list("account__customer_id", "amount").iterator():
        spend[customer_id] -= amount
    for row in lists["top_spenders"]:
        if spend.get(row["customer_id"]) != row["spend"]:
            problems.append(
                f"top customer {row['customer_id']}: dashboard {row['spend']} "
                f"≠ {spend.get(row['customer_id'])}"
            )
    positive = sorted((v for v in spend.values() if v > 0), reverse=True)
    shown = [row["spend"] for row in lists["top_spenders"]]
    if shown != positive[: len(shown)] or (len(shown) < 10 and len(positive) > len(shown)):
        problems.append(f"top customers: dashboard {shown} ≠ {positive[:10]}")
    return problems
