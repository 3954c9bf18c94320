"""The portal's key page and the staff admin for keys."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from api.models import ApiKey
from api.services import api_key_create
from customers.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(client, customer):
    client.force_login(customer.user)
    return client


def test_create_shows_the_key_once(portal, customer):
    url = reverse("portal:api_keys")
    page = portal.get(url)
    assert page.status_code == 200 and "还没有 API 密钥" in page.content.decode()
    response = portal.post(url, {"label": "网店", "allowed_ips": "203.0.113.7\n198.51.100.0/24"})
    assert response.status_code == 201
    key = ApiKey.objects.get(customer=customer)
    token = response.context["token"]
    assert token.startswith(f"op_{key.prefix}_")
    html = response.content.decode()
    assert token in html and "只显示这一次" in html
    assert key.allowed_ips == ["203.0.113.7/32", "198.51.100.0/24"]
    assert response["Cache-Control"].startswith("max-age=0")
    again = portal.get(url).content.decode()
    assert token not in again and f"op_{key.prefix}…" in again and "网店" in again


def test_bad_input_writes_nothing(portal):
    response = portal.post(reverse("portal:api_keys"), {"label": "", "allowed_ips": "nope"})
    assert response.status_code == 400
    assert "nope 不是 IP 地址或网段" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_and_change_allowlist(portal, customer):
    key, _token = api_key_create(customer=customer, label="a")
    response = portal.post(
        reverse("portal:api_key_ips", args=[key.pk]), {"allowed_ips": "10.1.2.0/24"}, follow=True
    )
    assert "已保存" in response.content.decode()
    key.refresh_from_db()
    assert key.allowed_ips == ["10.1.2.0/24"]
    portal.post(reverse("portal:api_key_ips", args=[key.pk]), {"allowed_ips": "bad"})
    key.refresh_from_db()
    assert key.allowed_ips == ["10.1.2.0/24"]
    response = portal.post(reverse("portal:api_key_revoke", args=[key.pk]), follow=True)
    assert "已吊销" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert portal.get(reverse("portal:api_key_revoke", args=[key.pk])).status_code == 405


def test_another_customers_key_is_404(portal, other_customer):
    theirs, _token = api_key_create(customer=other_customer, label="bob")
    assert portal.post(reverse("portal:api_key_revoke", args=[theirs.pk])).status_code == 404
    assert (
        portal.post(
            reverse("portal:api_key_ips", args=[theirs.pk]), {"allowed_ips": ""}
        ).status_code
        == 404
    )
    assert "bob" not in portal.get(reverse("portal:api_keys")).content.decode()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_login_required_and_nav_link(client, portal):
    from django.test import Client

    assert Client().get(reverse("portal:api_keys")).status_code == 302
    html = portal.get(reverse("portal:dashboard")).content.decode()
    assert 'id="nav-api"' in html and reverse("portal:api_keys") in html
    assert reverse("api:openapi-view") in portal.get(reverse("portal:api_keys")).content.decode()


def test_admin_lists_scoped_keys_and_revokes(client, customer, other_customer):
    manager = StaffFactory(username="mgr")
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_apikey", "change_apikey"])
    )
    customer.account_manager = manager
    customer.save()
    mine, _t = api_key_create(customer=customer, label="mine-key")
    theirs, _t = api_key_create(customer=other_customer, label="their-key")
    client.force_login(manager)
    url = reverse("admin:api_apikey_changelist")
    html = client.get(url).content.decode()
    assert "mine-key" in html and "their-key" not in html
    assert client.get(reverse("admin:api_apikey_change", args=[theirs.pk])).status_code == 302
    client.post(url, {"action": "revoke_selected", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert client.get(reverse("admin:api_apikey_add")).status_code == 403


def test_admin_without_permission_sees_nothing(client, customer):
    api_key_create(customer=customer, label="k")
    client.force_login(StaffFactory(username="nobody"))
    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403


def test_at_most_twenty_active_keys(portal, customer):
    from api.services import MAX_ACTIVE_KEYS

    for i in range(MAX_ACTIVE_KEYS):
        api_key_create(customer=customer, label=f"k{i}")
    response = portal.post(reverse("portal:api_keys"), {"label": "one more"})
    assert response.status_code == 400
    assert "您已有 20 个有效密钥，已达上限" in response.content.decode()
    assert ApiKey.objects.filter(customer=customer).count() == MAX_ACTIVE_KEYS
    first = ApiKey.objects.filter(customer=customer).last()
    portal.post(reverse("portal:api_key_revoke", args=[first.pk]))
    assert portal.post(reverse("portal:api_keys"), {"label": "one more"}).status_code == 201
