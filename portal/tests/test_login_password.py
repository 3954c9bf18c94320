"""Password login: username or mobile, axes lockout, staff and deactivated refused, logout."""

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_set_active
from portal.auth import BAD_CREDENTIALS

pytestmark = pytest.mark.django_db

LOGIN = reverse("portal:login")
DASHBOARD = reverse("portal:dashboard")


def post_login(client, identifier, password="pw-customer-123", **extra):
    return client.post(LOGIN, {"identifier": identifier, "password": password, **extra})


def logged_in_user(client):
    return client.session.get("_auth_user_id")


def test_login_page_renders_both_methods(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="password-login-form"' in body
    assert 'id="sms-login-form"' in body


@pytest.mark.parametrize("identifier", ["alice", "13800138000", "+86 138 0013 8000"])
def test_login_by_username_or_mobile(client, customer, identifier):
    response = post_login(client, identifier)
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert logged_in_user(client) == str(customer.user.pk)


def test_login_follows_safe_next_only(client, customer):
    response = post_login(client, "alice", next=reverse("portal:order_list"))
    assert response["Location"] == reverse("portal:order_list")
    client.logout()
    response = post_login(client, "alice", next="https://evil.example/")
    assert response["Location"] == DASHBOARD


def test_wrong_password_shows_error_and_logs_nobody_in(client, customer):
    response = post_login(client, "alice", password="wrong")
    assert response.status_code == 200
    assert str(BAD_CREDENTIALS) in response.content.decode()
    assert logged_in_user(client) is None


def test_empty_form_shows_field_errors(client):
    response = client.post(LOGIN, {"identifier": "", "password": ""})
    assert response.status_code == 200
    assert response.context["password_form"].errors.keys() == {"identifier", "password"}


def test_axes_locks_out_after_repeated_failures_and_says_so(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(client, "13800138000", password="wrong").status_code == 200
    response = post_login(client, "alice", password="wrong")
    assert response.status_code == 429
    body = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"{minutes}" in body
    assert 'id="password-login-form"' in body  # our page, not axes' bare response
    # Locked: even the right password is refused now, by username or by mobile.
    assert post_login(client, "alice").status_code == 429
    assert post_login(client, "13800138000").status_code == 429
    assert logged_in_user(client) is None


def test_lockout_of_one_username_leaves_another_free(client, customer, other_customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "alice", password="wrong")
    assert post_login(client, "bob").status_code == 302


def test_lockout_from_one_ip_leaves_another_ip_free(customer, settings):
    from django.test import Client

    attacker, owner = Client(REMOTE_ADDR="10.0.0.66"), Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(attacker, "alice", password="wrong")
    assert post_login(attacker, "alice").status_code == 429
    assert post_login(owner, "alice").status_code == 302


def test_staff_cannot_log_in_to_portal(client, staff):
    response = post_login(client, staff.username, password="pw-staff-123")
    assert response.status_code == 200
    assert str(BAD_CREDENTIALS) in response.content.decode()
    assert logged_in_user(client) is None


def test_deactivated_customer_cannot_log_in(client, customer):
    customer_set_active(customer=customer, is_active=False)
    response = post_login(client, "alice")
    assert str(BAD_CREDENTIALS) in response.content.decode()
    assert logged_in_user(client) is None


def test_deactivated_while_logged_in_is_locked_out(portal_client, customer):
    customer_set_active(customer=customer, is_active=False)
    response = portal_client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not response.wsgi_request.user.is_authenticated


def test_customer_row_deactivated_alone_ends_the_session(portal_client, customer):
    Customer.objects.filter(pk=customer.pk).update(is_active=False)
    response = portal_client.get(DASHBOARD)
    assert response["Location"].startswith(LOGIN)
    assert logged_in_user(portal_client) is None


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get(reverse("portal:order_list"))
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fportal%2Forders%2F"


def test_staff_session_is_sent_to_portal_login(client, staff):
    client.force_login(staff)
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_customer_cannot_reach_admin(portal_client):
    response = portal_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logout_is_a_post(portal_client):
    assert portal_client.get(reverse("portal:logout")).status_code == 405
    response = portal_client.post(reverse("portal:logout"))
    assert response["Location"] == LOGIN
    assert logged_in_user(portal_client) is None


def test_login_rotates_the_session_key(client, customer):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    post_login(client, "alice")
    assert client.session.session_key != before


def test_change_password(portal_client, customer):
    url = reverse("portal:password_change")
    assert portal_client.get(url).status_code == 200
    bad = portal_client.post(
        url, {"old_password": "nope", "new_password1": "x", "new_password2": "y"}
    )
    assert bad.status_code == 200
    assert {"old_password", "new_password2"} <= bad.context["form"].errors.keys()
    good = portal_client.post(
        url,
        {
            "old_password": "pw-customer-123",
            "new_password1": "Brand-new-pw-2026",
            "new_password2": "Brand-new-pw-2026",
        },
    )
    assert good["Location"] == DASHBOARD
    assert portal_client.get(DASHBOARD).status_code == 200  # still logged in
    customer.user.refresh_from_db()
    assert customer.user.check_password("Brand-new-pw-2026")


def test_sms_only_customer_sets_a_first_password(client, level):
    from customers.tests.factories import make_customer

    customer = make_customer(username="smsonly", level=level, password=None)
    client.force_login(customer.user)
    url = reverse("portal:password_change")
    page = client.get(url)
    assert "old_password" not in page.context["form"].fields
    response = client.post(
        url, {"new_password1": "First-pw-for-2026", "new_password2": "First-pw-for-2026"}
    )
    assert response["Location"] == DASHBOARD
    client.logout()
    assert post_login(client, "smsonly", password="First-pw-for-2026").status_code == 302
