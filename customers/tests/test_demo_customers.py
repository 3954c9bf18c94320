"""The demo loader gives one staff user per role and customers spread over two managers."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from customers.models import Customer, Level
from demo import customers as demo_customers

pytestmark = pytest.mark.django_db


class FakeCommand:
    pass


def test_demo_customers_load_twice_and_each_role_sees_its_own(client):
    lines = demo_customers.load(FakeCommand())
    counts = (Customer.objects.count(), Level.objects.count(), get_user_model().objects.count())
    assert demo_customers.load(FakeCommand()) == lines
    assert counts == (
        Customer.objects.count(),
        Level.objects.count(),
        get_user_model().objects.count(),
    )
    text = "\n".join(lines)
    for username in ("admin_mgr", "finance", "manager1", "manager2", "support", "demo"):
        assert username in text
    assert dict(Level.objects.values_list("name", "discount_percent")) == {
        "普通": 100,
        "白银": 95,
        "黄金": 90,
    }
    User = get_user_model()
    changelist = reverse("admin:customers_customer_changelist")
    for username, expected in (("manager1", 5), ("manager2", 5), ("support", 10)):
        user = User.objects.get(username=username)
        assert user.is_staff and user.check_password(f"{username}-demo-2026")
        client.force_login(user)
        response = client.get(changelist)
        assert len(response.context["cl"].result_list) == expected
    demo = Customer.objects.select_related("user").get(user__username="demo")
    assert demo.user.check_password("customer-demo-2026") and not demo.user.is_staff
