"""seed_orders: bulk-loaded customers, orders and ledger that reconcile and that the admin lists."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, get_commands
from django.db.models import Sum
from django.urls import reverse

from customers.models import Customer
from customers.selectors import customer_visible_to
from orders.models import Order
from orders.selectors import order_visible_to
from wallet.models import Account, Entry

pytestmark = pytest.mark.django_db


def test_seeded_data_reconciles_and_lists(client, admin_user):
    out, err = StringIO(), StringIO()
    call_command(
        "seed_orders", customers=30, orders=400, managers=2, batch=50, stdout=out, stderr=err
    )
    summary = out.getvalue().strip().splitlines()[-1]
    assert "30" in summary and "400" in summary  # the one-line summary
    assert "orders" in err.getvalue() and "%" in err.getvalue()  # progress lines

    assert Order.objects.count() == 400
    assert Customer.objects.filter(user__username__startswith="seedc").count() == 30
    for account in Account.objects.all():
        total = Entry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
        assert account.balance == total and account.balance >= 0
    if "wallet_audit" in get_commands():
        call_command("wallet_audit", "--chain", stdout=StringIO(), stderr=StringIO())

    kinds = Counter(Entry.objects.exclude(order_number="").values_list("order_number", "kind"))
    for order in Order.objects.all():
        assert kinds[(order.number, "order_debit")] == 1
        refunded = kinds[(order.number, "cancel_refund")] + kinds[(order.number, "refund")]
        assert refunded == (1 if order.status in ("cancelled", "failed", "partial") else 0)
        assert order.amount == order.quantity * order.unit_price * order.level_percent / 100 or (
            abs(order.amount - order.list_price * order.level_percent / 100) <= Decimal("0.005")
        )

    # the seeded managers see exactly their customers, through guardian and through orders
    manager = get_user_model().objects.get(username="seed_manager00")
    managed = Customer.objects.filter(account_manager=manager)
    assert managed.exists()
    assert set(customer_visible_to(manager)) == set(managed)
    assert order_visible_to(manager).count() == Order.objects.filter(customer__in=managed).count()

    client.force_login(admin_user)
    response = client.get(reverse("admin:orders_order_changelist"), {"q": "seedc0000001"})
    assert response.status_code == 200
    assert {o.customer.user.username for o in response.context["cl"].result_list} <= {
        "seedc0000001"
    }

    with pytest.raises(CommandError):
        call_command("seed_orders", customers=1, orders=1, stdout=StringIO(), stderr=StringIO())
