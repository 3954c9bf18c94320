"""Order list actions: cancel with refund (each order reported), CSV/XLSX export, escaped."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from openpyxl import load_workbook

from customers.tests.factories import StaffFactory
from orders.models import Order
from orders.services import order_place, order_start
from orders.tests.conftest import funded_customer, grant
from orders.tests.factories import ServiceFactory
from wallet.models import Entry
from wallet.selectors import balance_of

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def orders(db):
    customer = funded_customer(balance="100.00", username="eve", name="=HYPERLINK(1)")
    service = ServiceFactory()
    place = lambda target: order_place(  # noqa: E731
        customer=customer, service=service, target=target, quantity=10
    )
    return customer, [place("https://a.cn/1"), place("https://a.cn/2"), place("https://a.cn/3")]


@pytest.fixture
def support(client, roles):
    user = grant(StaffFactory(role="客服"), "orders.view_order", "orders.cancel_order")
    client.force_login(user)
    return user


def _post_action(client, action, orders, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in orders], **extra}
    return client.post(LIST, data)


def test_cancel_asks_for_confirmation_then_refunds_each_and_reports_each(client, support, orders):
    customer, (pending, running, other) = orders
    order_start(order=running, agent="agent-1", lease_until=None)
    assert balance_of(customer_id=customer.pk) == Decimal("70.00")

    confirm = _post_action(client, "cancel_orders", [pending, running])
    assert confirm.status_code == 200
    assert "admin/orders/order/cancel_confirmation.html" in [t.name for t in confirm.templates]
    assert Order.objects.filter(status="cancelled").count() == 0  # nothing yet

    done = _post_action(client, "cancel_orders", [pending, running], apply="1", reason="客户要求")
    assert done.status_code == 302
    messages = [str(m) for m in done.wsgi_request._messages]
    assert any(pending.number in m and "1" in m for m in messages)
    assert any(running.number in m for m in messages)  # reported as not cancelled
    pending.refresh_from_db()
    running.refresh_from_db()
    assert (pending.status, running.status) == ("cancelled", "running")
    assert balance_of(customer_id=customer.pk) == Decimal("80.00")
    refund = Entry.objects.get(order_number=pending.number, kind=Entry.Kind.CANCEL_REFUND)
    assert (refund.memo, refund.created_by) == ("客户要求", support)
    assert pending.events.last().actor == support

    # the same action again refunds nothing more
    _post_action(client, "cancel_orders", [pending], apply="1")
    assert balance_of(customer_id=customer.pk) == Decimal("80.00")


def test_cancel_from_the_order_page_is_a_post_after_a_confirmation(client, support, orders):
    customer, (order, *_rest) = orders
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    cancel_url = reverse("admin:orders_order_cancel", args=[order.pk])
    assert cancel_url in page.content.decode()
    assert client.get(cancel_url).status_code == 200  # the confirmation, nothing changed
    order.refresh_from_db()
    assert order.status == "pending"
    response = client.post(cancel_url, {"reason": "dup"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert balance_of(customer_id=customer.pk) == Decimal("80.00")


def test_without_the_cancel_permission_there_is_no_cancel(client, roles, orders):
    customer, (order, *_rest) = orders
    user = grant(StaffFactory(role="财务"), "orders.view_order")
    client.force_login(user)
    page = client.get(LIST)
    assert "cancel_orders" not in page.content.decode()
    _post_action(client, "cancel_orders", [order], apply="1")  # not offered: "no action"
    cancel_url = reverse("admin:orders_order_cancel", args=[order.pk])
    assert client.post(cancel_url).status_code == 403
    order.refresh_from_db()
    assert order.status == "pending"
    assert balance_of(customer_id=customer.pk) == Decimal("70.00")


def test_export_csv_and_xlsx_escape_formulas(client, admin_user, orders):
    client.force_login(admin_user)
    customer, placed = orders
    Order.objects.filter(pk=placed[0].pk).update(memo="@SUM(A1)")

    response = _post_action(client, "export_csv", placed)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4
    header = rows[0]
    # Order numbers and mobiles carry a leading tab so Excel keeps them text.
    by_number = {row[0].lstrip("\t"): dict(zip(header, row, strict=True)) for row in rows[1:]}
    first = by_number[placed[0].number]
    assert "'=HYPERLINK(1)" in first.values()
    assert "'@SUM(A1)" in first.values()
    assert "10.00" in first.values()

    response = _post_action(client, "export_xlsx", placed)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 4
    assert any("'=HYPERLINK(1)" in row for row in values[1:])
    assert not any(isinstance(v, str) and v.startswith("=") for row in values for v in row)


def test_export_needs_the_export_permission(client, support, orders):
    _customer, placed = orders
    response = _post_action(client, "export_csv", placed)
    assert response.status_code == 302  # back to the list: the action is not offered
    assert "attachment" not in response.get("Content-Disposition", "")


def test_exporting_all_filtered_orders_beyond_the_stream_limit_runs_as_a_job(
    client, admin_user, orders, settings
):
    from jobs.models import Job
    from jobs.runner import run_next

    settings.JOBS_EXPORT_STREAM_ROWS = 1
    client.force_login(admin_user)
    _customer, placed = orders
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "export_xlsx",
            "select_across": "1",
            "index": "0",
            ACTION_CHECKBOX_NAME: [placed[0].pk],
        },
    )
    job = Job.objects.get(kind="export")
    assert response["Location"] == reverse("admin:jobs_job_page", args=[job.pk])
    while run_next(worker="test"):
        pass
    job.refresh_from_db()
    assert job.state == "done" and job.result["rows"] == len(placed), job.error
    download = client.get(reverse("admin:jobs_job_download", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows())
    numbers = {row[0].value for row in rows[1:]}
    assert numbers == {order.number for order in placed}
    amount = rows[1][10]
    assert isinstance(amount.value, (int, float)) and amount.number_format == "0.00"
