"""The order list's per-page costs: rows built without per-row templates, the agents check cached."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.tests.test_agent_admin import ORDERS, live_agent, staff_with
from orders.tests.test_agent_support import funded_customer, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client):
    user = staff_with("view_order", "view_customer", "run_order")  # an action: checkboxes
    client.force_login(user)
    return user


def test_rows_link_to_the_order_keeping_the_filters_and_carry_its_checkbox(client, viewer):
    order = place(funded_customer(), quantity=1)
    html = client.get(ORDERS, {"status__exact": "pending"}).content.decode()
    links = re.findall(r'<th class="field-number"><a href="([^"]+)"', html)
    assert links == [
        f"/admin/orders/order/{order.pk}/change/?_changelist_filters=status__exact%3Dpending"
    ]
    boxes = re.findall(r'<input type="checkbox" name="_selected_action"[^>]*>', html)
    assert len(boxes) == 1
    assert f'value="{order.pk}" class="action-select" aria-label="' in boxes[0]
    assert order.number in boxes[0]
    html = client.get(ORDERS).content.decode()  # no filters: a bare link
    assert f'<a href="/admin/orders/order/{order.pk}/change/">' in html


def test_a_live_agent_is_asked_of_the_database_once_for_several_pages(client, viewer):
    live_agent()
    client.get(ORDERS)
    with CaptureQueriesContext(connection) as queries:
        client.get(ORDERS)
        client.get(ORDERS)
    assert not [q for q in queries.captured_queries if "orders_agent" in q["sql"]]
