"""Admin: read-only, scoped to the staff user's customers, send again needs its permission."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from customers.tests.factories import StaffFactory, make_customer
from notifications.models import Delivery
from notifications.tests.test_portal import a_delivery

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_delivery_changelist")


def staff_with(*codenames):
    user = StaffFactory()
    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=code)
        )
    return user


def test_managers_see_only_their_customers_deliveries(client):
    manager = staff_with("notifications.view_delivery")
    mine = make_customer(username="mine", mobile="13800000001")
    mine.account_manager = manager
    mine.save()
    other = make_customer(username="other", mobile="13800000002")
    my_delivery, their_delivery = a_delivery(mine), a_delivery(other)
    client.force_login(manager)
    page = client.get(CHANGELIST).content.decode()
    assert my_delivery.event.event_id in page and their_delivery.event.event_id not in page
    url = reverse("admin:notifications_delivery_change", args=[their_delivery.pk])
    assert client.get(url).status_code == 302  # not found in scope: back to the index


def test_send_again_needs_the_permission(client, admin_user):
    customer = make_customer(username="c", mobile="13800000003")
    delivery = a_delivery(customer)
    Delivery.objects.update(status=Delivery.Status.FAILED, next_try_at=None)
    viewer = staff_with("notifications.view_delivery", "customers.view_customer")
    client.force_login(viewer)
    data = {"action": "send_again", "_selected_action": [delivery.pk]}
    response = client.post(CHANGELIST, data)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "send_again" not in client.get(CHANGELIST).content.decode()
    assert response.status_code in (200, 302)
    client.force_login(admin_user)
    client.post(CHANGELIST, data)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert (
        client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk])).status_code
        == 200
    )


def test_nothing_is_editable(client, admin_user):
    customer = make_customer(username="c", mobile="13800000004")
    delivery = a_delivery(customer)
    client.force_login(admin_user)
    for model, pk in (("delivery", delivery.pk), ("outboxevent", delivery.event_id)):
        assert client.get(reverse(f"admin:notifications_{model}_add")).status_code == 403
        assert (
            client.get(reverse(f"admin:notifications_{model}_delete", args=[pk])).status_code == 403
        )
