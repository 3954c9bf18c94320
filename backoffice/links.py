"""Admin list URLs filtered to exactly the rows behind a dashboard figure.

Each uses the list's own filters (their query parameters), so the list a figure opens shows
the same rows — and the same count or total — as the figure:

- orders: ``status__exact``, ``created_at__range__gte/lte`` and ``finished_at__range__gte/lte``
  (django-admin-rangefilter: local days, both ends included); for a window of instants the
  plain field lookups ``finished_at__gte`` / ``finished_at__lt``, which the admin accepts on
  any field of the model;
- ledger: ``kind__exact``, ``kinds`` (refunds / sales, ``wallet.admin.filters.KindGroupFilter``),
  ``customer`` and ``created_at__range__gte/lte``;
- customers: ``balance_below`` (``wallet.admin.filters.BalanceBelowFilter``);
- agents: ``alive`` (``orders.admin.agents.AliveFilter``).
"""

from datetime import date, datetime

from django.urls import reverse
from django.utils.http import urlencode


def _url(name: str, params: dict | None = None) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def _days(field: str, first: date, last: date) -> dict:
    return {f"{field}__range__gte": first.isoformat(), f"{field}__range__lte": last.isoformat()}


def _instants(field: str, start: datetime, end: datetime) -> dict:
    return {f"{field}__gte": start.isoformat(), f"{field}__lt": end.isoformat()}


def orders_created(first: date, last: date) -> str:
    """Orders placed on these local days."""
    return _url("admin:orders_order_changelist", _days("created_at", first, last))


def orders_finished(status: str, first: date, last: date) -> str:
    """Orders that reached ``status`` on these local days."""
    params = {"status__exact": status, **_days("finished_at", first, last)}
    return _url("admin:orders_order_changelist", params)


def orders_finished_between(statuses: tuple[str, ...], start: datetime, end: datetime) -> str:
    """Orders that reached one of ``statuses`` in ``[start, end)``."""
    params = (
        {"status__exact": statuses[0]} if len(statuses) == 1 else {"status__in": ",".join(statuses)}
    )
    return _url("admin:orders_order_changelist", {**params, **_instants("finished_at", start, end)})


def orders_in_status(status: str) -> str:
    """Orders in ``status`` now."""
    return _url("admin:orders_order_changelist", {"status__exact": status})


def order_page(pk: int) -> str:
    return reverse("admin:orders_order_change", args=[pk])


def ledger(first: date | None = None, last: date | None = None, **params) -> str:
    """Ledger entries of these local days (all when no days), narrowed by ``params``."""
    days = _days("created_at", first, last) if first else {}
    return _url("admin:wallet_entry_changelist", {**params, **days})


def customers_below(threshold) -> str:
    """Customers whose balance is below ``threshold``."""
    return _url("admin:customers_customer_changelist", {"balance_below": str(threshold)})


def customer_page(pk: int) -> str:
    return reverse("admin:customers_customer_change", args=[pk])


def topups_pending() -> str:
    """Top-up requests waiting for finance's decision."""
    return _url("admin:wallet_topuprequest_changelist", {"status__exact": "pending"})


def agents_alive() -> str:
    return _url("admin:orders_agent_changelist", {"alive": "yes"})
