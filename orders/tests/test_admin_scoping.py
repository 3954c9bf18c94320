"""Role scoping: an account manager sees and touches only their own customers' orders."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from customers.tests.factories import StaffFactory
from orders.models import Order
from orders.selectors import order_visible_to
from orders.services import order_place
from orders.tests.conftest import funded_customer, grant
from orders.tests.factories import ServiceFactory
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")
MANAGER_PERMS = ("orders.view_order", "orders.cancel_order", "orders.export_order")


@pytest.fixture
def two_books(roles):
    """Managers m1 and m2, one customer and one order each; m1's client is logged in."""
    m1 = grant(StaffFactory(username="m1", role="客户经理"), *MANAGER_PERMS)
    m2 = grant(StaffFactory(username="m2", role="客户经理"), *MANAGER_PERMS)
    mine = funded_customer(username="mine", mobile="13500000001", account_manager=m1)
    theirs = funded_customer(username="theirs", mobile="13600000002", account_manager=m2)
    service = ServiceFactory()
    place = lambda c: order_place(customer=c, service=service, target="https://a.cn", quantity=5)  # noqa: E731
    return {
        "m1": m1,
        "m2": m2,
        "mine": mine,
        "theirs": theirs,
        "my": place(mine),
        "their": place(theirs),
    }


def _numbers(response):
    assert response.status_code == 200
    return {o.number for o in response.context["cl"].result_list}


def test_list_and_search_show_only_my_customers_orders(client, two_books):
    client.force_login(two_books["m1"])
    my, their = two_books["my"].number, two_books["their"].number
    assert _numbers(client.get(LIST)) == {my}
    for term in (their, their[:10], "theirs", "136000", "https://a.cn"):
        assert their not in _numbers(client.get(LIST, {"q": term})), term
    assert _numbers(client.get(LIST, {"q": "mine"})) == {my}


def test_another_managers_order_by_url_is_not_found(client, two_books):
    client.force_login(two_books["m1"])
    their = two_books["their"]
    response = client.get(reverse("admin:orders_order_change", args=[their.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert their.number not in client.get(response["Location"]).content.decode("utf-8")
    cancel = client.post(reverse("admin:orders_order_cancel", args=[their.pk]), {"reason": "x"})
    assert cancel.status_code == 302
    their.refresh_from_db()
    assert their.status == "pending"
    assert balance_of(customer_id=two_books["theirs"].pk) == Decimal("995.00")


def test_actions_with_another_managers_ids_touch_nothing_of_theirs(client, two_books):
    client.force_login(two_books["m1"])
    my, their = two_books["my"], two_books["their"]
    ids = [my.pk, their.pk]
    exported = client.post(LIST, {"action": "export_csv", ACTION_CHECKBOX_NAME: ids})
    raw = b"".join(exported.streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["\t" + my.number]

    client.post(LIST, {"action": "cancel_orders", ACTION_CHECKBOX_NAME: ids, "apply": "1"})
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {my.number: "cancelled", their.number: "pending"}
    assert balance_of(customer_id=two_books["theirs"].pk) == Decimal("995.00")


def test_who_sees_all(two_books, admin_user):
    everyone = {two_books["my"].number, two_books["their"].number}
    support = grant(StaffFactory(role="客服"), "orders.view_order")
    finance = grant(StaffFactory(role="财务"), "orders.view_order")
    for user in (admin_user, support, finance):
        assert set(order_visible_to(user).values_list("number", flat=True)) == everyone, user
    assert set(order_visible_to(two_books["m2"]).values_list("number", flat=True)) == {
        two_books["their"].number
    }
    no_customers = grant(StaffFactory(), "orders.view_order")
    assert not order_visible_to(no_customers).exists()


def test_role_permissions(roles):
    """What sync_roles grants (or, until it exists, the fallback in conftest)."""
    support = StaffFactory(role="客服")
    finance = StaffFactory(role="财务")
    manager = StaffFactory(role="客户经理")
    assert support.has_perm("orders.cancel_order")
    assert support.has_perm("orders.view_order") and finance.has_perm("orders.view_order")
    assert manager.has_perm("orders.view_order")
    assert not manager.has_perm("customers.view_customer")  # so managers are scoped
    assert not finance.has_perm("orders.cancel_order")


def test_a_manager_places_for_their_own_customer_only(client, two_books):
    m1 = grant(two_books["m1"], "orders.place_order")
    client.force_login(m1)
    place = reverse("admin:orders_order_place")
    key = client.get(place).context["form"]["idempotency_key"].value()
    service = ServiceFactory()
    data = {
        "service": service.pk,
        "target": "https://b.cn",
        "quantity": "2",
        "idempotency_key": key,
    }
    refused = client.post(place, {**data, "customer": "theirs", "_confirm": "1"})
    assert refused.status_code == 200 and refused.context["form"].errors["customer"]
    shown = client.post(place, {**data, "customer": "mine"}).context["quote"].amount
    placed = client.post(
        place, {**data, "customer": "mine", "shown_amount": str(shown), "_confirm": "1"}
    )
    assert placed.status_code == 302
    assert Order.objects.filter(customer=two_books["mine"]).count() == 2
    assert Order.objects.filter(customer=two_books["theirs"]).count() == 1
