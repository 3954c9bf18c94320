"""充值/扣款 from the customer admin: the action on many, the page for one, bad input, replays."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from customers.admin import CustomerAdmin
from customers.tests.factories import make_customer
from wallet.admin.customer import WalletCustomerAdmin
from wallet.exceptions import (
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_PRECISE,
    IDEMPOTENCY_CONFLICT,
    MEMO_REQUIRED,
)
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = pytest.mark.django_db

LIST = reverse("admin:customers_customer_changelist")


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _action(client, action, customers, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in customers], **extra}
    return client.post(LIST, data)


def _form_key(client, action, customers) -> str:
    """Open the intermediate form the way a user does and read its hidden key."""
    response = _action(client, action, customers)
    assert response.status_code == 200
    assert "admin/wallet/money_form.html" in [t.name for t in response.templates]
    return response.context["form"]["request_key"].value()


def _fund(customer, amount="100.00"):
    wallet_recharge(
        customer_id=customer.pk, amount=amount, created_by=None, idempotency_key=f"f:{customer.pk}"
    )


def test_finance_recharges_three_customers_at_once(client, finance):
    customers = [make_customer(name=f"客户{i}") for i in range(3)]
    client.force_login(finance)
    key = _form_key(client, "recharge_selected", customers)
    assert Entry.objects.count() == 0  # showing the form moves nothing

    done = _action(
        client,
        "recharge_selected",
        customers,
        apply="1",
        amount="300.50",
        payment_method="bank_transfer",
        memo="月初充值",
        request_key=key,
    )
    assert done.status_code == 302
    for customer in customers:
        assert balance_of(customer_id=customer.pk) == Decimal("300.50")
        entry = Entry.objects.get(account__customer=customer)
        assert (entry.kind, entry.amount, entry.balance_after) == (
            "recharge",
            Decimal("300.50"),
            Decimal("300.50"),
        )
        assert entry.created_by == finance and entry.memo == "月初充值"
    shown = _messages(done)
    assert sum("300.50" in m for m in shown) == 3  # one line per customer
    assert LogEntry.objects.filter(user=finance).count() == 3  # in each customer's history


def test_a_double_submit_of_the_same_form_moves_money_once(client, finance):
    customers = [make_customer(), make_customer()]
    client.force_login(finance)
    key = _form_key(client, "recharge_selected", customers)
    form = {
        "apply": "1",
        "amount": "50",
        "payment_method": "cash",
        "memo": "",
        "request_key": key,
    }
    _action(client, "recharge_selected", customers, **form)
    _action(client, "recharge_selected", customers, **form)
    assert Entry.objects.count() == 2
    assert all(balance_of(customer_id=c.pk) == Decimal("50.00") for c in customers)

    # The same form key re-posted with another amount is refused for each customer.
    changed = _action(client, "recharge_selected", customers, **{**form, "amount": "60"})
    assert Entry.objects.count() == 2
    assert sum(str(IDEMPOTENCY_CONFLICT) in m for m in _messages(changed)) == 2


def test_deduct_reports_each_customer_success_or_refusal_separately(client, finance):
    rich, poor = make_customer(name="富"), make_customer(name="穷")
    _fund(rich, "100.00")
    _fund(poor, "5.00")
    client.force_login(finance)
    key = _form_key(client, "deduct_selected", [rich, poor])
    done = _action(
        client,
        "deduct_selected",
        [rich, poor],
        apply="1",
        amount="10",
        memo="服务费",
        request_key=key,
    )
    assert balance_of(customer_id=rich.pk) == Decimal("90.00")
    assert balance_of(customer_id=poor.pk) == Decimal("5.00")
    assert Entry.objects.filter(kind="deduct").count() == 1
    shown = _messages(done)
    assert any("富" in m and "90.00" in m for m in shown)
    assert any("穷" in m and "5.00" in m for m in shown)  # the refusal names the balance


def test_deduct_from_one_customer_on_its_page(client, finance):
    customer = make_customer()
    _fund(customer, "100.00")
    client.force_login(finance)
    change = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    deduct_url = reverse("admin:customers_customer_deduct", args=[customer.pk])
    assert deduct_url in change.content.decode()  # the button on the customer's page

    page = client.get(deduct_url)
    assert page.status_code == 200 and Entry.objects.count() == 1
    key = page.context["form"]["request_key"].value()
    done = client.post(deduct_url, {"amount": "12.34", "memo": "退货扣回", "request_key": key})
    assert done.status_code == 302 and done.url.endswith(f"/{customer.pk}/change/")
    entry = Entry.objects.get(kind="deduct")
    assert (entry.amount, entry.balance_after, entry.memo) == (
        Decimal("-12.34"),
        Decimal("87.66"),
        "退货扣回",
    )
    # Replaying the POST (back button, double click) writes nothing new.
    client.post(deduct_url, {"amount": "12.34", "memo": "退货扣回", "request_key": key})
    assert Entry.objects.filter(kind="deduct").count() == 1


def test_the_single_customer_page_writes_only_on_post(client, finance):
    customer = make_customer()
    client.force_login(finance)
    url = reverse("admin:customers_customer_recharge", args=[customer.pk])
    client.get(url, {"amount": "10", "memo": "", "request_key": "a" * 32})
    assert Entry.objects.count() == 0


def test_refusal_on_the_single_customer_page_is_shown_with_the_form(client, finance):
    customer = make_customer()
    client.force_login(finance)
    url = reverse("admin:customers_customer_deduct", args=[customer.pk])
    key = client.get(url).context["form"]["request_key"].value()
    response = client.post(url, {"amount": "1", "memo": "x", "request_key": key})
    assert response.status_code == 200
    # In the form, not as a message: the balance now (¥0.00) and the refusal beside it.
    refusal = " ".join(response.context["form"].non_field_errors())
    assert "0.00" in refusal
    assert not _messages(response)
    assert Entry.objects.count() == 0


BAD_AMOUNTS = [
    ("-5", AMOUNT_NOT_POSITIVE),
    ("0", AMOUNT_NOT_POSITIVE),
    ("0.00", AMOUNT_NOT_POSITIVE),
    ("1.005", AMOUNT_TOO_PRECISE),
    ("99999999999", None),
    ("1e400", None),
    ("abc", None),
    ("12,34.5.6", None),
    ("NaN", None),
    ("", None),
]


@pytest.mark.parametrize(("amount", "error"), BAD_AMOUNTS)
@pytest.mark.parametrize("action", ["recharge_selected", "deduct_selected"])
def test_bad_amounts_are_form_errors_and_write_nothing(client, finance, action, amount, error):
    customer = make_customer()
    _fund(customer, "100.00")
    client.force_login(finance)
    key = _form_key(client, action, [customer])
    response = _action(
        client, action, [customer], apply="1", amount=amount, memo="备注", request_key=key
    )
    assert response.status_code == 200  # the form again, with the error beside the field
    errors = response.context["form"].errors["amount"]
    if error is not None:
        assert str(error) in errors
    assert Entry.objects.count() == 1
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


@pytest.mark.parametrize("memo", ["", "   "])
def test_deduct_without_a_memo_is_a_form_error(client, finance, memo):
    customer = make_customer()
    _fund(customer)
    client.force_login(finance)
    url = reverse("admin:customers_customer_deduct", args=[customer.pk])
    key = client.get(url).context["form"]["request_key"].value()
    response = client.post(url, {"amount": "1", "memo": memo, "request_key": key})
    assert response.status_code == 200
    assert str(MEMO_REQUIRED) in response.context["form"].errors["memo"]
    assert Entry.objects.count() == 1


def test_a_forged_form_key_is_refused(client, finance):
    customer = make_customer()
    client.force_login(finance)
    url = reverse("admin:customers_customer_recharge", args=[customer.pk])
    response = client.post(url, {"amount": "1", "memo": "", "request_key": "x' OR 1=1"})
    assert response.status_code == 200 and "request_key" in response.context["form"].errors
    assert Entry.objects.count() == 0


def test_balance_shows_in_the_list_and_read_only_on_the_page(client, finance):
    customer = make_customer(name="张三")
    _fund(customer, "1234.50")
    client.force_login(finance)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "¥1,234.50" in listing.content.decode()
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert "¥1,234.50" in page.content.decode()
    assert "wallet_balance" not in page.context["adminform"].form.fields  # not editable


def test_the_list_joins_the_account_instead_of_one_query_per_row(client, finance):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        _fund(make_customer())
    client.force_login(finance)
    client.get(LIST)  # the menu's cached figures are counted once, on the first page
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for _ in range(5):
        _fund(make_customer())
    with CaptureQueriesContext(connection) as more:
        client.get(LIST)
    assert len(more) == len(few)


def test_the_wallet_admin_composes_with_the_customer_admin():
    """Columns and actions the customers app adds stay; ours come after."""
    assert WalletCustomerAdmin.list_display[: len(CustomerAdmin.list_display)] == list(
        CustomerAdmin.list_display
    )
    assert "balance" in WalletCustomerAdmin.list_display
    for action in CustomerAdmin.actions or []:
        assert action in WalletCustomerAdmin.actions
    assert {"recharge_selected", "deduct_selected"} <= set(WalletCustomerAdmin.actions)
