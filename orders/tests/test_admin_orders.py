"""The order list and page as staff use them: search, filters, badges, read-only money."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.services import order_cancel, order_place
from orders.tests.conftest import funded_customer
from orders.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def shop(admin_user, client):
    """Two customers, two services, four orders; the admin logged in."""
    client.force_login(admin_user)
    alice = funded_customer(username="alice", name="张三", mobile="13811112222", percent=90)
    bob = funded_customer(username="bob", name="李四", mobile="13999998888")
    video = ServiceFactory(name="视频播放量")
    likes = ServiceFactory(name="点赞")
    orders = {
        "a1": order_place(customer=alice, service=video, target="https://v.cn/1", quantity=10),
        "a2": order_place(customer=alice, service=likes, target="https://l.cn/2", quantity=100),
        "b1": order_place(customer=bob, service=video, target="https://v.cn/3", quantity=20),
        "b2": order_place(customer=bob, service=likes, target="https://x.cn/4", quantity=5),
    }
    order_cancel(order=orders["b2"], actor=admin_user)
    Order.objects.filter(pk=orders["a1"].pk).update(created_at=timezone.now() - timedelta(days=10))
    return {"alice": alice, "bob": bob, "video": video, "likes": likes, **orders}


def _numbers(response) -> set[str]:
    assert response.status_code == 200
    return {o.number for o in response.context["cl"].result_list}


def test_list_shows_orders_with_status_badges(client, shop):
    response = client.get(LIST)
    assert _numbers(response) == {shop[k].number for k in ("a1", "a2", "b1", "b2")}
    html = response.content.decode()
    assert '<span class="badge bg-dark">' in html  # the cancelled order
    assert '<span class="badge bg-secondary">' in html  # pending ones
    assert response.context["cl"].show_full_result_count is False


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("alice", {"a1", "a2"}),  # username, exact
        ("ali", {"a1", "a2"}),  # username prefix
        ("张三", {"a1", "a2"}),  # display name
        ("李", {"b1", "b2"}),  # display name prefix
        ("13999998888", {"b1", "b2"}),  # mobile as typed
        ("139999", {"b1", "b2"}),  # mobile prefix
        ("+86138111", {"a1", "a2"}),  # E.164 prefix
        ("https://v.cn/", {"a1", "b1"}),  # target prefix
        ("https://x.cn/4", {"b2"}),  # target exact
        ("nobody", set()),
        ("138 1111 2222", {"a1", "a2"}),  # spaces in a mobile are ignored
    ],
)
def test_search_by_customer_mobile_and_target(client, shop, term, expected):
    response = client.get(LIST, {"q": term})
    assert _numbers(response) == {shop[k].number for k in expected}


def test_search_by_order_number_exact_and_prefix(client, shop):
    number = shop["b1"].number
    assert _numbers(client.get(LIST, {"q": number})) == {number}
    # the date part: every order placed today (a1 was moved back in time, not its number)
    prefix = number[:8]
    assert number in _numbers(client.get(LIST, {"q": prefix}))
    assert _numbers(client.get(LIST, {"q": number[:-1] + "x"})) == set()


def test_filters_combine(client, shop):
    video, likes = shop["video"].pk, shop["likes"].pk
    assert _numbers(client.get(LIST, {"status__exact": "cancelled"})) == {shop["b2"].number}
    assert _numbers(client.get(LIST, {"service__id__exact": video})) == {
        shop["a1"].number,
        shop["b1"].number,
    }
    # amounts: a1 9.00, a2 90.00 (90 %), b1 20.00, b2 5.00
    amount = {"amount__range__gte": "8.00", "amount__range__lte": "20.00"}
    assert _numbers(client.get(LIST, amount)) == {shop["a1"].number, shop["b1"].number}
    today = timezone.localdate().isoformat()
    recent = {"created_at__range__gte": today, "created_at__range__lte": today}
    assert _numbers(client.get(LIST, recent)) == {
        shop["a2"].number,
        shop["b1"].number,
        shop["b2"].number,
    }
    combined = {**amount, **recent, "service__id__exact": video, "q": "bob"}
    assert _numbers(client.get(LIST, combined)) == {shop["b1"].number}
    assert _numbers(
        client.get(LIST, {"service__id__exact": likes, "status__exact": "pending"})
    ) == {shop["a2"].number}


def test_list_count_is_capped_not_a_full_count(client, shop, monkeypatch):
    from core.admin import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    response = client.get(LIST)
    assert response.context["cl"].result_count == 2  # "at least 2", never a COUNT(*) of all
    assert response.context["cl"].paginator.count == 2


def test_order_page_shows_events_and_ledger_read_only(client, shop):
    order = shop["b2"]
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Order debit" in html or "创建订单" in html
    assert "撤单" in html or "Cancel refund" in html
    # bob paid 20.00 for b1, then 5.00 for b2 (975.00 left), then got the 5.00 back
    assert "<td>-¥5.00</td><td>¥975.00</td>" in html
    assert "<td>+¥5.00</td><td>¥980.00</td>" in html
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in html
    events = response.context["inline_admin_formsets"][0].formset.queryset
    assert [e.to_status for e in events] == ["pending", "cancelled"]


def test_orders_cannot_be_added_changed_or_deleted_through_plain_forms(client, shop):
    order = shop["a2"]
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    response = client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"amount": "0.01", "status": "completed"},
    )
    assert response.status_code == 403
    assert client.post(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    order.refresh_from_db()
    assert (order.status, order.amount) == ("pending", Decimal("90.00"))


def test_search_finds_a_pattern_target_when_no_customer_matches(client, shop):
    from orders.models import Service

    accounts = ServiceFactory(target_kind=Service.TargetKind.PATTERN, target_pattern=r"\w{3,30}")
    order = order_place(customer=shop["alice"], service=accounts, target="acct_007", quantity=2)
    assert _numbers(client.get(LIST, {"q": "acct_007"})) == {order.number}
    assert _numbers(client.get(LIST, {"q": "acct_0"})) == {order.number}
    assert _numbers(client.get(LIST, {"q": "acct%"})) == set()  # LIKE wildcards are escaped


def test_pages_keep_newest_first_order(client, shop, monkeypatch):
    from orders.admin.orders import OrderAdmin

    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    first = [o.number for o in client.get(LIST).context["cl"].result_list]
    second = [o.number for o in client.get(LIST, {"p": "2"}).context["cl"].result_list]
    expected = list(Order.objects.order_by("-created_at", "-id").values_list("number", flat=True))
    assert first + second == expected
