"""Only finance and administrators move money: by menu, action or URL nobody else can."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from customers.tests.factories import StaffFactory, make_customer
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.tests.conftest import perms_of

pytestmark = pytest.mark.django_db

LIST = reverse("admin:customers_customer_changelist")
MONEY_ACTIONS = {"recharge_selected", "deduct_selected"}
MONEY_PERMS = {"wallet.recharge_account", "wallet.deduct_account"}
FORM = {"amount": "10", "memo": "试试", "request_key": "0" * 32}


def _offered_actions(client) -> set[str]:
    response = client.get(LIST)
    if response.status_code != 200:
        return set()
    form = response.context["action_form"]  # None when no action is offered at all
    return {name for name, _ in form.fields["action"].choices} if form else set()


@pytest.fixture
def customer(db):
    return make_customer(name="被试客户")


def test_the_roles_give_money_permissions_to_finance_and_administrators_only(
    finance, support, manager, roles
):
    admin_role = StaffFactory(username="boss", role="管理员")
    assert MONEY_PERMS <= perms_of(finance)
    assert MONEY_PERMS <= perms_of(admin_role)
    assert not MONEY_PERMS & perms_of(support)
    assert not MONEY_PERMS & perms_of(manager)


@pytest.mark.parametrize("who", ["support", "manager"])
def test_others_find_no_way_to_move_money(client, request, customer, who):
    user = request.getfixturevalue(who)
    if who == "manager":
        customer.account_manager = user  # their own customer, with the object permissions
        from customers.services import customer_reassign_manager

        customer_reassign_manager(customer=customer, account_manager=user)
    client.force_login(user)

    # Menu: no 充值/扣款 in the action list, no buttons on the customer's page.
    assert not MONEY_ACTIONS & _offered_actions(client)
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    for name in ("recharge", "deduct"):
        assert reverse(f"admin:customers_customer_{name}", args=[customer.pk]) not in (
            page.content.decode()
        )

    # Action: posting the action by name does nothing.
    for action in MONEY_ACTIONS:
        data = {"action": action, ACTION_CHECKBOX_NAME: [customer.pk], "apply": "1", **FORM}
        response = client.post(LIST, data)
        assert response.status_code in (200, 302, 403)
        assert "admin/wallet/money_form.html" not in [t.name for t in response.templates]

    # URL: the per-customer pages are forbidden, GET and POST.
    for name in ("recharge", "deduct"):
        url = reverse(f"admin:customers_customer_{name}", args=[customer.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, FORM).status_code == 403

    assert Entry.objects.count() == 0
    assert balance_of(customer_id=customer.pk) == Decimal("0.00")


def test_finance_and_administrators_see_the_actions(client, finance, roles):
    client.force_login(finance)
    assert MONEY_ACTIONS <= _offered_actions(client)
    client.force_login(StaffFactory(username="boss", role="管理员"))
    assert MONEY_ACTIONS <= _offered_actions(client)


def test_recharge_only_permission_gets_recharge_only(client, customer):
    from orders.tests.conftest import grant

    user = grant(StaffFactory(), "customers.view_customer", "wallet.recharge_account")
    client.force_login(user)
    offered = _offered_actions(client)
    assert "recharge_selected" in offered and "deduct_selected" not in offered
    deduct = reverse("admin:customers_customer_deduct", args=[customer.pk])
    assert client.post(deduct, FORM).status_code == 403


def test_an_unknown_customer_is_404_for_finance(client, finance):
    client.force_login(finance)
    url = reverse("admin:customers_customer_recharge", args=[987654])
    assert client.get(url).status_code == 404


def test_anonymous_users_are_sent_to_the_login(client, customer):
    url = reverse("admin:customers_customer_recharge", args=[customer.pk])
    response = client.post(url, FORM)
    assert response.status_code == 302 and "login" in response.url
    assert Entry.objects.count() == 0
