"""The wallet demo loader tops customers up once, however often it runs."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from customers.tests.factories import StaffFactory, make_customer
from demo import wallet as demo_wallet
from wallet.models import Entry

pytestmark = pytest.mark.django_db


def test_demo_recharges_each_customer_once_as_the_superuser():
    admin = StaffFactory(username="admin", is_superuser=True)
    named = demo_wallet._demo_usernames()  # the customers fixture, when it exists
    usernames = named[:3] if named else [None, None, None]
    customers = [make_customer(username=u) for u in usernames]
    outsider = make_customer(username="not-a-demo-customer")
    lines = demo_wallet.load(None)
    demo_wallet.load(None)  # a second run replays the keys
    assert Entry.objects.count() == (3 if named else 4)
    if named:
        assert not Entry.objects.filter(account__customer=outsider).exists()
    assert any("3" in line for line in lines)
    for customer in customers:
        entry = Entry.objects.get(account__customer=customer)
        assert entry.created_by == admin and entry.kind == "recharge"
        assert Decimal("100") <= entry.amount < Decimal("1000")
        assert entry.idempotency_key == f"demo:recharge:{customer.user.username}"
    out = StringIO()
    call_command("wallet_audit", stdout=out, stderr=StringIO())
    assert "核对一致" in out.getvalue() or "reconcile" in out.getvalue()
