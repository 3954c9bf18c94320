"""The customer page shows the customer: facts, the buttons each role may use, the latest
orders and ledger entries with links to the full lists; and wherever a customer is named
(order list and page, ledger list and page) its orders and ledger are one click away."""

import pytest
from django.urls import reverse

from customers.tests.factories import StaffFactory
from orders.admin.customer import PANEL_ROWS, customer_orders_url, customer_place_url
from orders.services import order_place
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory
from wallet.admin.links import customer_ledger_url
from wallet.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(roles):
    """A manager's customer with seven orders (so the page shows only the latest few)."""
    manager = StaffFactory(username="am1", role="客户经理")
    customer = funded_customer(
        username="acme",
        name="艾克米",
        mobile="13912345678",
        balance="1500.50",
        account_manager=manager,
    )
    service = ServiceFactory(name="播放量")
    orders = [
        order_place(customer=customer, service=service, target=f"https://a.cn/{n}", quantity=10)
        for n in range(7)
    ]
    return {"manager": manager, "customer": customer, "orders": orders}


def _page(client, user, customer):
    client.force_login(user)
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response


def _keys(items) -> list[str]:
    return [item.key for item in items]


def test_finance_sees_the_facts_money_buttons_and_both_panels(client, book, roles):
    finance = StaffFactory(username="cashier", role="财务")
    customer = book["customer"]
    response = _page(client, finance, customer)
    facts = {fact.key: str(fact.value) for fact in response.context["customer_facts"]}
    assert list(facts)[:1] == ["balance"]
    assert facts["balance"] == "¥1,430.50"  # 1500.50 − 7 orders × ¥10.00
    assert facts["discount"] == "100%" and facts["manager"] == "am1"
    assert "level" in facts and "status" in facts
    assert _keys(response.context["customer_tools"]) == ["recharge", "deduct"]

    panels = {panel.key: panel for panel in response.context["customer_panels"]}
    assert list(panels) == ["orders", "ledger"]
    assert len(panels["orders"].rows) == PANEL_ROWS
    newest = book["orders"][-1]
    assert newest.number in str(panels["orders"].rows[0][0])
    assert panels["orders"].more_url == customer_orders_url(customer)
    assert panels["ledger"].more_url == customer_ledger_url(customer)
    assert len(panels["ledger"].rows) == PANEL_ROWS
    page = response.content.decode()
    for url in (customer_orders_url(customer), customer_ledger_url(customer)):
        assert url.replace("&", "&amp;") in page


def test_the_account_manager_places_orders_and_resets_passwords_but_moves_no_money(client, book):
    response = _page(client, book["manager"], book["customer"])
    assert _keys(response.context["customer_tools"]) == ["place_order", "password"]
    tools = {tool.key: tool for tool in response.context["customer_tools"]}
    assert tools["place_order"].url == customer_place_url(book["customer"])
    # The customer's orders, but no ledger: managers do not read the ledger.
    assert _keys(response.context["customer_panels"]) == ["orders"]
    links = [url for _label, url in response.context["customer_links"]]
    assert links == [customer_orders_url(book["customer"])]


def test_support_sees_the_orders_but_no_buttons(client, book, roles):
    support = StaffFactory(username="helpdesk", role="客服")
    response = _page(client, support, book["customer"])
    assert response.context["customer_tools"] == []
    assert _keys(response.context["customer_panels"]) == ["orders"]


def test_the_place_button_fills_in_the_customer(client, book):
    client.force_login(book["manager"])
    response = client.get(customer_place_url(book["customer"]))
    assert response.status_code == 200
    assert response.context["form"]["customer"].value() == "acme"


def test_all_orders_of_the_customer_are_one_click_away_and_named(client, book, roles):
    other = funded_customer(username="other", balance="100")
    order_place(customer=other, service=ServiceFactory(), target="https://b.cn", quantity=1)
    finance = StaffFactory(username="cashier", role="财务")
    client.force_login(finance)
    response = client.get(customer_orders_url(book["customer"]))
    assert response.status_code == 200
    numbers = {order.number for order in response.context["cl"].result_list}
    assert numbers == {order.number for order in book["orders"]}
    assert response.context["filtered_customer"] == book["customer"]

    ledger = client.get(customer_ledger_url(book["customer"]))
    entries = list(ledger.context["cl"].result_list)
    assert entries and all(e.account.customer_id == book["customer"].pk for e in entries)


def test_another_managers_customer_is_not_named_in_the_order_filter(client, book, roles):
    stranger = StaffFactory(username="am2", role="客户经理")
    client.force_login(stranger)
    response = client.get(customer_orders_url(book["customer"]))
    assert response.status_code == 200
    assert response.context["filtered_customer"] is None
    assert list(response.context["cl"].result_list) == []


def test_wherever_the_customer_is_named_its_orders_and_ledger_are_linked(client, book, roles):
    customer = book["customer"]
    orders_url = customer_orders_url(customer).replace("&", "&amp;")
    ledger_url = customer_ledger_url(customer).replace("&", "&amp;")
    finance = StaffFactory(username="cashier", role="财务")
    client.force_login(finance)
    order = book["orders"][0]
    entry = Entry.objects.filter(account__customer=customer).first()
    for url in (
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:wallet_entry_changelist"),
        reverse("admin:wallet_entry_change", args=[entry.pk]),
        reverse("admin:customers_customer_changelist"),
    ):
        page = client.get(url).content.decode()
        assert orders_url in page and ledger_url in page, url

    # The account manager may not read the ledger: the order list links orders only.
    client.force_login(book["manager"])
    page = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert orders_url in page and ledger_url not in page


def test_money_is_shown_as_yuan_in_the_lists(client, book, roles):
    finance = StaffFactory(username="cashier", role="财务")
    client.force_login(finance)
    assert (
        "¥1,430.50" in client.get(reverse("admin:customers_customer_changelist")).content.decode()
    )
    assert "¥10.00" in client.get(reverse("admin:orders_order_changelist")).content.decode()
    ledger = client.get(reverse("admin:wallet_entry_changelist")).content.decode()
    assert "-¥10.00" in ledger and "+¥1,500.50" in ledger and "¥1,430.50" in ledger
