"""A level that customers hold cannot be deleted; the message says how many hold it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from customers.exceptions import LevelInUse
from customers.models import Level
from customers.services import level_delete
from customers.tests.factories import LevelFactory, make_customer

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff["管理员"])
    return client


def test_delete_view_refuses_a_level_in_use_and_names_the_count(admin_client, gold):
    make_customer(level=gold)
    make_customer(level=gold)
    url = reverse("admin:customers_level_delete", args=[gold.pk])
    for response in (admin_client.get(url), admin_client.post(url, {"post": "yes"})):
        assert response.status_code == 302
        assert response.url == reverse("admin:customers_level_change", args=[gold.pk])
        assert any("2" in m and "黄金" in m for m in messages_of(response))
    assert Level.objects.filter(pk=gold.pk).exists()


def test_bulk_delete_refuses_when_any_selected_level_is_in_use(admin_client, gold):
    unused = LevelFactory(name="未用")
    make_customer(level=gold)
    response = admin_client.post(
        reverse("admin:customers_level_changelist"),
        {"action": "delete_unused_selected", "_selected_action": [gold.pk, unused.pk]},
        follow=True,
    )
    text = " ".join(messages_of(response))
    assert "黄金" in text and "1" in text
    assert Level.objects.filter(pk__in=[gold.pk, unused.pk]).count() == 2


def test_unused_levels_are_deleted_after_confirmation(admin_client):
    unused = LevelFactory(name="未用")
    url = reverse("admin:customers_level_changelist")
    data = {"action": "delete_unused_selected", "_selected_action": [unused.pk]}
    confirmation = admin_client.post(url, data)
    assert confirmation.status_code == 200  # Django's "are you sure?" page
    admin_client.post(url, {**data, "post": "yes"})
    assert not Level.objects.filter(pk=unused.pk).exists()
    single = LevelFactory(name="单个")
    admin_client.post(reverse("admin:customers_level_delete", args=[single.pk]), {"post": "yes"})
    assert not Level.objects.filter(pk=single.pk).exists()


def test_the_service_refuses_too(gold):
    make_customer(level=gold)
    with pytest.raises(LevelInUse, match="1"):
        level_delete(level=gold)


def test_level_list_shows_how_many_customers_hold_each(admin_client, gold):
    make_customer(level=gold)
    response = admin_client.get(reverse("admin:customers_level_changelist"))
    (row,) = [level for level in response.context["cl"].result_list if level.pk == gold.pk]
    assert row.customer_total == 1


def test_discount_outside_1_to_100_is_refused(admin_client):
    url = reverse("admin:customers_level_add")
    for bad in (0, 101):
        response = admin_client.post(
            url,
            {"name": f"坏{bad}", "discount_percent": bad, "is_active": "on", "display_order": 0},
        )
        assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Level.objects.filter(name__startswith="坏").exists()
