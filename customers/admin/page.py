"""What the customer page shows, and links to a customer's other lists, as hooks.

This app knows nothing of the apps above it (DESIGN.md). The customer change page shows
*facts* (figures at the top), *tools* (buttons) and *panels* (short read-only tables) that
``CustomerAdmin.get_facts/get_tools/get_panels`` return; the apps above subclass the admin
and add theirs (the balance, money buttons, the latest activity).

Wherever a customer is named in a list, ``customer_cell`` shows the name linking to the
customer page followed by the links other apps registered with ``register_customer_link``,
each only for users who may follow it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from customers.models import Customer


@dataclass(frozen=True)
class Fact:
    """One figure at the top of the customer page: a label and its (escaped or safe) value."""

    key: str
    label: Any
    value: Any


@dataclass(frozen=True)
class Tool:
    """A button on the customer page (a GET link to a page that asks before it writes)."""

    key: str
    label: Any
    url: str
    style: str = "outline-primary"


@dataclass(frozen=True)
class Panel:
    """A short read-only table on the customer page, with a link to the full list."""

    key: str
    title: Any
    headers: list[Any]
    rows: list[list[Any]]
    more_url: str = ""
    more_label: Any = ""
    empty: Any = ""
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned columns


@dataclass(frozen=True)
class CustomerLink:
    """A page about one customer that another app offers (a list filtered to the customer).

    ``action`` links (充值) appear in the customer list only; the others wherever the
    customer is named.
    """

    key: str
    label: Any
    url: Callable[[Customer], str]
    allowed: Callable[[Any], bool]
    action: bool = False
    position: int = 100  # smaller first
    style: str = "primary"  # an action's button colour (Bootstrap's btn-<style>)


_LINKS: dict[str, CustomerLink] = {}


def register_customer_link(link: CustomerLink) -> None:
    """Offer ``link`` for every customer (registering the same key again replaces it)."""
    _LINKS[link.key] = link


def _allowed(user, *, action: bool) -> list[CustomerLink]:
    links = [link for link in _LINKS.values() if link.action == action and link.allowed(user)]
    return sorted(links, key=lambda link: link.position)


def customer_links(user, customer: Customer) -> list[tuple[Any, str]]:
    """(label, url) of the customer's other pages ``user`` may open."""
    return [(link.label, link.url(customer)) for link in _allowed(user, action=False)]


def links_html(links: Iterable[tuple[Any, str]]) -> SafeString:
    """Small link buttons, one per (label, url)."""
    return format_html_join(
        " ",
        '<a class="badge bg-light text-dark customer-link" href="{}">{}</a>',
        ((url, label) for label, url in links),
    )


def customer_row_links(user, customer: Customer) -> SafeString:
    """The customer list's last column: the customer's pages, then actions (充值) as buttons."""
    pages = links_html(customer_links(user, customer))
    actions = format_html_join(
        " ",
        '<a class="btn btn-{} btn-sm py-0 customer-action customer-action-{}" href="{}">{}</a>',
        (
            (link.style, link.key, link.url(customer), link.label)
            for link in _allowed(user, action=True)
        ),
    )
    if not (pages or actions):
        return "—"
    return format_html('<span class="text-nowrap">{} {}</span>', pages, actions)


def customer_cell(user, customer: Customer) -> SafeString:
    """The customer's name linking to its page, then its other pages (registered links)."""
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    name = format_html(
        '<a href="{}">{}</a> <span class="text-muted">{}</span>',
        url,
        customer.name,
        customer.user.get_username(),
    )
    links = customer_links(user, customer)
    if not links:
        return name
    return format_html('{} <span class="customer-links">{}</span>', name, links_html(links))


def customer_column(
    request, accessor: Callable[[Any], Customer], *, description, ordering: str | None = None
) -> Callable[[Any], SafeString]:
    """A list_display column naming a row's customer with the links this request may follow.

    A closure, because a column callable receives only the row and the links depend on who
    is looking.
    """

    def customer(obj) -> SafeString:
        return customer_cell(request.user, accessor(obj))

    customer.short_description = description
    if ordering:
        customer.admin_order_field = ordering
    return customer
