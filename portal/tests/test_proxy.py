"""Behind a trusted reverse proxy, SMS limits and the login lockout count each real client."""

import pytest
import sms
from django.test import Client, override_settings

from portal import sms_codes
from portal.tests.test_login_password import logged_in_user, post_login
from portal.tests.test_login_sms import page_messages, send

pytestmark = pytest.mark.django_db

PROXY = "10.9.0.2"


def behind_proxy(client_address: str) -> Client:
    """A customer's browser as the app sees it through the TLS proxy."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


@override_settings(TRUSTED_PROXIES=[PROXY], PORTAL_SMS_HOURLY_LIMIT_PER_IP=3)
def test_customers_behind_the_proxy_have_their_own_sms_limits(customer):
    first = behind_proxy("198.51.100.1")
    for n in range(3):
        send(first, f"1370013700{n}")
    assert page_messages(send(first, "13700137009")) == [str(sms_codes.SEND_LIMIT_IP)]
    # Another customer behind the same proxy is not limited by the first one's requests.
    response = send(behind_proxy("198.51.100.2"), "13800138000")
    assert page_messages(response) != [str(sms_codes.SEND_LIMIT_IP)]
    assert len(sms.outbox) == 1
    assert sms.outbox[0].recipients == ["+8613800138000"]


@override_settings(TRUSTED_PROXIES=[PROXY], PORTAL_SMS_HOURLY_LIMIT_PER_IP=3)
def test_a_forged_header_from_elsewhere_is_limited_by_its_own_address(customer):
    for n in range(4):
        # Each request claims to come from somebody new; none came through the proxy.
        forger = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        response = send(forger, f"1370013700{n}")
    assert page_messages(response) == [str(sms_codes.SEND_LIMIT_IP)]
    # Through the proxy, what the client wrote in front of its address is not read either.
    for n in range(4):
        spoofed = behind_proxy(f"198.51.100.{50 + n}, 198.51.100.1")
        response = send(spoofed, f"1360013600{n}")
    assert page_messages(response) == [str(sms_codes.SEND_LIMIT_IP)]


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_the_login_lockout_locks_the_attacker_behind_the_proxy_not_everyone(customer, settings):
    attacker, owner = behind_proxy("198.51.100.66"), behind_proxy("198.51.100.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(attacker, "alice", password="wrong")
    assert post_login(attacker, "alice").status_code == 429
    response = post_login(owner, "alice")
    assert response.status_code == 302
    assert logged_in_user(owner) == str(customer.user.pk)


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_the_lockout_records_the_real_client_address(customer, settings):
    from axes.models import AccessAttempt

    post_login(behind_proxy("198.51.100.66"), "alice", password="wrong")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
