"""The one-customer 充值/扣款 page: payment method and reference, balance now and after,
a refused duplicate naming the earlier entry, and a replay that tells today's balance."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from customers.tests.factories import StaffFactory, make_customer
from wallet import permissions
from wallet.forms import REFERENCE_FOR_ONE_CUSTOMER
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _page(customer, operation="recharge") -> str:
    return reverse(f"admin:customers_customer_{operation}", args=[customer.pk])


def _open(client, customer, operation="recharge"):
    response = client.get(_page(customer, operation))
    assert response.status_code == 200
    return response, response.context["form"]["request_key"].value()


def _post(client, customer, key, operation="recharge", **fields):
    data = {"amount": "100", "payment_method": "bank_transfer", "memo": "", "request_key": key}
    return client.post(_page(customer, operation), {**data, **fields})


def _fund(customer, amount):
    wallet_recharge(
        customer_id=customer.pk, amount=amount, created_by=None, idempotency_key=f"f:{amount}"
    )


def test_the_form_shows_the_balance_now_and_loads_the_live_script(client, finance):
    customer = make_customer()
    _fund(customer, "1500.50")
    client.force_login(finance)
    response, _key = _open(client, customer)
    page = response.content.decode()
    assert "¥1,500.50" in page
    assert 'data-balance="1500.50"' in page
    assert "wallet/money_form.js" in page
    # Data for the script as JSON (json_script), not inline JavaScript.
    assert '<script id="money-form-config" type="application/json">' in page
    methods = [value for value, _label in response.context["form"].fields["payment_method"].choices]
    assert methods == ["bank_transfer", "alipay", "wechat", "cash", "other"]


def test_a_recharge_with_a_reference_goes_back_to_the_customer_with_before_and_after(
    client, finance
):
    customer = make_customer()
    _fund(customer, "50")
    client.force_login(finance)
    _response, key = _open(client, customer)
    done = _post(client, customer, key, payment_reference="2024 0101 88")
    assert done.status_code == 302
    assert done.url == reverse("admin:customers_customer_change", args=[customer.pk])
    entry = Entry.objects.get(kind="recharge", created_by=finance)
    assert (entry.payment_method, entry.payment_reference) == ("bank_transfer", "2024010188")
    assert any("¥50.00 → ¥150.00" in m for m in _messages(done))
    page = client.get(done.url).content.decode()
    assert "¥150.00" in page


def test_the_same_reference_again_is_refused_naming_the_earlier_entry(client, finance):
    first, second = make_customer(name="甲公司"), make_customer(name="乙公司")
    client.force_login(finance)
    _response, key = _open(client, first)
    _post(client, first, key, payment_reference="TX-1")
    earlier = Entry.objects.get(payment_reference="TX-1")

    response, key = _open(client, second)
    refused = _post(client, second, key, payment_reference="tx-1", amount="80")
    assert refused.status_code == 200
    error = " ".join(refused.context["form"].errors["payment_reference"])
    assert "甲公司" in error and str(earlier.pk) in error and "TX-1" in error
    assert "¥80.00" in refused.content.decode()  # the balance after, computed by the server
    assert Entry.objects.count() == 1 and balance_of(customer_id=second.pk) == Decimal("0.00")

    # The same reference for another method is another payment.
    ok = _post(client, second, key, payment_reference="TX-1", payment_method="alipay")
    assert ok.status_code == 302 and balance_of(customer_id=second.pk) == Decimal("100.00")


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": "abc"},
        {"amount": "-5"},
        {"payment_method": "paypal"},
        {"payment_method": ""},
        {"payment_reference": "X" * 65},
        {"request_key": "forged"},
    ],
)
def test_bad_input_is_shown_with_the_form_and_writes_nothing(client, finance, bad):
    customer = make_customer()
    client.force_login(finance)
    _response, key = _open(client, customer)
    response = _post(client, customer, key, **{"payment_reference": "R-1", **bad})
    assert response.status_code == 200 and response.context["form"].errors
    assert Entry.objects.count() == 0


def test_a_deduction_needs_no_payment_method(client, finance):
    customer = make_customer()
    _fund(customer, "100")
    client.force_login(finance)
    _response, key = _open(client, customer, "deduct")
    done = _post(client, customer, key, "deduct", amount="30", memo="服务费", payment_method="")
    assert done.status_code == 302
    assert balance_of(customer_id=customer.pk) == Decimal("70.00")
    assert any("¥100.00 → ¥70.00" in m for m in _messages(done))


def test_a_replayed_form_reports_the_current_balance_not_the_first_one(client, finance):
    """Issue 11 item 7: "already recorded", with the balance as it is now."""
    customer = make_customer()
    client.force_login(finance)
    _response, first_key = _open(client, customer)
    _post(client, customer, first_key, amount="100", payment_reference="A-1")
    _response, second_key = _open(client, customer)
    _post(client, customer, second_key, amount="50", payment_reference="A-2")
    assert balance_of(customer_id=customer.pk) == Decimal("150.00")

    replay = _post(client, customer, first_key, amount="100", payment_reference="A-1")
    assert replay.status_code == 302
    assert Entry.objects.count() == 2
    message = _messages(replay)[-1]
    assert "already recorded" in message or "已" in message
    assert message.endswith("¥150.00.") or message.endswith("¥150.00。"), message
    assert "→" not in message  # not the first time's "before → after"


def test_the_bulk_action_refuses_a_reference_for_many_customers(client, finance):
    customers = [make_customer(), make_customer()]
    client.force_login(finance)
    data = {"action": "recharge_selected", ACTION_CHECKBOX_NAME: [c.pk for c in customers]}
    key = (
        client.post(reverse("admin:customers_customer_changelist"), data)
        .context["form"]["request_key"]
        .value()
    )
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {
            **data,
            "apply": "1",
            "amount": "10",
            "payment_method": "bank_transfer",
            "payment_reference": "ONE-PAYMENT",
            "memo": "",
            "request_key": key,
        },
    )
    assert response.status_code == 200
    assert str(REFERENCE_FOR_ONE_CUSTOMER) in response.context["form"].errors["payment_reference"]
    assert Entry.objects.count() == 0


@pytest.mark.parametrize("who", ["support", "manager"])
def test_without_the_permission_there_is_no_button_and_the_page_is_403(client, request, roles, who):
    user = request.getfixturevalue(who)
    customer = make_customer(account_manager=user if who == "manager" else None)
    if who == "manager":
        from guardian.shortcuts import assign_perm

        assign_perm("customers.change_customer", user, customer)
    client.force_login(user)
    change = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert change.status_code == 200
    tools = [tool.key for tool in change.context["customer_tools"]]
    assert "recharge" not in tools and "deduct" not in tools
    assert _page(customer) not in change.content.decode()
    listing = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert _page(customer) not in listing
    for operation in ("recharge", "deduct"):
        assert client.get(_page(customer, operation)).status_code == 403
        data = {"amount": "1", "payment_method": "cash", "memo": "x", "request_key": "a" * 32}
        assert client.post(_page(customer, operation), data).status_code == 403
    assert Entry.objects.count() == 0


def test_the_customer_list_offers_recharge_on_each_row_to_finance(client, finance):
    customers = [make_customer(), make_customer()]
    client.force_login(finance)
    listing = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    for customer in customers:
        assert _page(customer) in listing
        assert _page(customer, "deduct") in listing


def test_recharge_only_users_get_only_the_recharge_button(client, roles):
    from orders.tests.conftest import grant

    user = grant(StaffFactory(), "customers.view_customer", permissions.RECHARGE)
    customer = make_customer()
    client.force_login(user)
    change = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    tools = [tool.key for tool in change.context["customer_tools"]]
    assert "recharge" in tools and "deduct" not in tools
    assert client.get(_page(customer, "deduct")).status_code == 403


def test_the_ledger_shows_finds_and_exports_the_payment(client, finance):
    customer = make_customer(name="丙")
    other = make_customer()
    for n, who in enumerate([customer, other]):
        wallet_recharge(
            customer_id=who.pk,
            amount="10",
            created_by=None,
            idempotency_key=f"p{n}",
            payment_method="wechat",
            payment_reference=f"WX-{n}",
        )
    client.force_login(finance)
    ledger = reverse("admin:wallet_entry_changelist")
    found = client.get(ledger, {"q": "wx-0"})
    assert [e.payment_reference for e in found.context["cl"].result_list] == ["WX-0"]
    assert "WX-0" in found.content.decode()
    export = client.get(reverse("admin:wallet_entry_export", args=["csv"]), {"q": "WX-1"})
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "WX-1" in text and "WX-0" not in text
