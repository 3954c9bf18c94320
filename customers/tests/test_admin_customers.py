"""Creating, editing, setting passwords, searching and bulk actions in the customer admin."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

ADD = "admin:customers_customer_add"
CHANGELIST = "admin:customers_customer_changelist"


def add_data(level, **extra):
    return {
        "username": "newbie",
        "password1": "Str0ng-pass-2026",
        "password2": "Str0ng-pass-2026",
        "name": "新客户",
        "mobile": "137 0000 1111",
        "level": level.pk,
        "notes": "",
        **extra,
    }


def test_account_manager_creates_a_customer_and_becomes_its_manager(client, books, gold):
    client.force_login(books["m1"])
    form = client.get(reverse(ADD)).context["adminform"].form
    assert "account_manager" not in form.fields  # forced to themselves
    response = client.post(reverse(ADD), add_data(gold, account_manager=books["m2"].pk))
    assert response.status_code == 302
    customer = Customer.objects.select_related("user").get(user__username="newbie")
    assert customer.account_manager == books["m1"]
    assert customer.mobile == "+8613700001111"
    assert customer.user.check_password("Str0ng-pass-2026") and not customer.user.is_staff
    assert "Str0ng" not in customer.user.password
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    assert response.url == change or response.url == reverse(CHANGELIST)
    assert client.get(change).status_code == 200  # the object permission was granted
    client.force_login(books["m2"])
    assert client.get(change).status_code == 404


def test_administrator_chooses_the_manager_defaulting_to_themselves(client, staff, books, gold):
    client.force_login(staff["管理员"])
    form = client.get(reverse(ADD)).context["adminform"].form
    assert form.initial["account_manager"] == staff["管理员"].pk
    client.post(reverse(ADD), add_data(gold, account_manager=books["m2"].pk))
    assert Customer.objects.get(user__username="newbie").account_manager == books["m2"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile", "12345"),
        ("mobile", "13912345678"),  # bob's
        ("username", "bob"),
        ("username", "finance"),  # a staff user
        ("password2", "something-else-1"),
        ("password1", "123"),
    ],
)
def test_bad_creation_input_is_a_form_error_and_writes_nothing(client, books, gold, field, value):
    client.force_login(books["m1"])
    data = add_data(gold)
    data[field] = value
    if field == "password1":
        data["password2"] = value
    response = client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Customer.objects.count() == 3
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_set_password_is_a_post_and_hashes(client, books):
    client.force_login(books["m1"])
    alice = books["mine"]
    url = reverse("admin:customers_customer_password", args=[alice.pk])
    assert client.get(url).status_code == 200
    alice.user.refresh_from_db()
    before = alice.user.password
    response = client.post(url, {"password1": "N3w-portal-pw", "password2": "N3w-portal-pw"})
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.password != before and alice.user.check_password("N3w-portal-pw")
    response = client.post(url, {"password1": "N3w-portal-pw", "password2": "different-1"})
    assert response.status_code == 200 and response.context["form"].errors


def test_search_by_mobile_prefix_username_and_name(client, staff, books):
    client.force_login(staff["客服"])

    def found(term):
        response = client.get(reverse(CHANGELIST), {"q": term})
        return {c.user.username for c in response.context["cl"].result_list}

    assert found("139123") == {"bob"}
    assert found("+86139123") == {"bob"}
    assert found("ali") == {"alice"}
    assert found("Am") == {"amy"}
    assert found("lic") == {"alice"}  # name contains
    assert found("12345678") == set()  # mobile by prefix only


def test_filters_include_level_manager_active_and_created_range(client, staff, books):
    client.force_login(staff["管理员"])
    response = client.get(
        reverse(CHANGELIST),
        {"created_at__range__gte": "2000-01-01", "account_manager__id__exact": books["m2"].pk},
    )
    assert response.status_code == 200
    assert {c.user.username for c in response.context["cl"].result_list} == {"bob"}
    client.force_login(books["m1"])
    specs = client.get(reverse(CHANGELIST)).context["cl"].filter_specs
    assert not any(getattr(s, "field_path", "") == "account_manager" for s in specs)


def test_change_level_and_activate_actions(client, staff, books, silver):
    client.force_login(staff["管理员"])
    ids = [books["mine"].pk, books["theirs"].pk]
    form = client.post(reverse(CHANGELIST), {"action": "change_level", "_selected_action": ids})
    assert form.status_code == 200 and "apply" in form.content.decode()
    client.post(
        reverse(CHANGELIST),
        {"action": "change_level", "_selected_action": ids, "level": silver.pk, "apply": "1"},
    )
    assert set(Customer.objects.filter(pk__in=ids).values_list("level", flat=True)) == {silver.pk}
    client.post(reverse(CHANGELIST), {"action": "deactivate", "_selected_action": ids})
    assert not Customer.objects.filter(pk__in=ids, is_active=True).exists()
    assert not get_user_model().objects.filter(customer__pk__in=ids, is_active=True).exists()
    client.post(reverse(CHANGELIST), {"action": "activate", "_selected_action": ids})
    assert Customer.objects.filter(pk__in=ids, is_active=True).count() == 2


def test_a_deactivated_customer_cannot_log_in(client, books):
    alice = make_customer(username="gone", password="pw-customer-123")
    from customers.services import customer_set_active

    customer_set_active(customer=alice, is_active=False)
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    assert authenticate(request, username="gone", password="pw-customer-123") is None


def test_deletion_is_not_offered(client, staff, books):
    client.force_login(staff["superuser"])
    url = reverse("admin:customers_customer_change", args=[books["mine"].pk])
    response = client.get(url)
    assert response.context["has_delete_permission"] is False
    delete = reverse("admin:customers_customer_delete", args=[books["mine"].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Customer.objects.filter(pk=books["mine"].pk).exists()


def test_list_columns(client, staff, books):
    client.force_login(staff["财务"])
    html = client.get(reverse(CHANGELIST)).content.decode()
    for text in ("alice", "90%", "manager1", "黄金"):
        assert text in html


def test_the_admin_speaks_chinese_by_default(client, staff, books):
    client.force_login(staff["管理员"])
    html = client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("修改所选客户的等级", "更换客户经理", "用户名", "折扣", "客户经理"):
        assert text in html
