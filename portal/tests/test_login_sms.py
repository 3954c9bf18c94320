"""SMS code login: the code's life (expiry, single use, wrong tries), sending limits, privacy."""

import re
import time
from unittest import mock

import pytest
import sms
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from sms.backends.base import BaseSmsBackend

from customers.services import customer_set_active
from portal import sms_codes
from portal.views.auth import SESSION_SMS_MOBILE

pytestmark = pytest.mark.django_db

SEND = reverse("portal:sms_send")
VERIFY = reverse("portal:sms_login")
DASHBOARD = reverse("portal:dashboard")
MOBILE = "13800138000"
E164 = "+8613800138000"


class FailingSmsBackend(BaseSmsBackend):
    """A provider that is down."""

    def send_messages(self, messages):
        raise ConnectionError("provider unreachable")


class SilentlyFailingSmsBackend(BaseSmsBackend):
    """A provider that sends nothing and says so by returning 0."""

    def send_messages(self, messages):
        return 0


def send(client, mobile=MOBILE, **extra):
    return client.post(SEND, {"mobile": mobile}, follow=True, **extra)


def verify(client, code, mobile=MOBILE):
    return client.post(VERIFY, {"mobile": mobile, "code": code})


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class Clock:
    """Moves time.time() forward for the code module and the local-memory cache."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


locmem_only = pytest.mark.skipif(
    "locmem" not in settings.CACHES["default"]["BACKEND"].lower(),
    reason="moves time.time(), which a Redis server's expiry does not follow",
)


def skip_cooldown(mobile=E164):
    """Let another code go out now (the cooldown has its own tests)."""
    cache.delete(sms_codes._key("cooldown", mobile))


@pytest.fixture
def clock():
    c = Clock()
    with mock.patch("time.time", c):
        yield c


def test_code_is_sent_and_logs_in(client, customer):
    response = send(client)
    assert page_messages(response) == [str(sms_codes.CODE_SENT % {"minutes": 5})]
    assert len(sms.outbox) == 1
    assert sms.outbox[0].recipients == [E164]
    assert response.context["code_sent"] is True
    assert response.context["method"] == "sms"
    response = verify(client, last_code())
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert client.session["_auth_user_id"] == str(customer.user.pk)
    assert SESSION_SMS_MOBILE not in client.session


def test_code_is_stored_hashed(client, customer):
    send(client)
    code = last_code()
    stored = cache.get(sms_codes._key("code", E164))
    assert stored == sms_codes._digest(E164, code)
    assert code not in stored
    assert E164 not in sms_codes._key("code", E164)  # keys do not show the number either


def test_same_answer_for_unknown_number(client, customer):
    stranger = Client()
    known, unknown = send(client, MOBILE), send(stranger, "13700137000")
    assert known.status_code == unknown.status_code == 200
    assert page_messages(known) == page_messages(unknown)
    assert len(sms.outbox) == 1  # only the customer got a message
    # The same cooldown…
    assert page_messages(send(client, MOBILE)) == page_messages(send(stranger, "13700137000"))
    # …and the same answers to a code.
    assert (
        verify(client, "000000").context["sms_form"].errors
        == verify(stranger, "000000", "13700137000").context["sms_form"].errors
    ) or last_code() == "000000"


def test_deactivated_customer_is_sent_nothing_and_cannot_log_in(client, customer):
    customer_set_active(customer=customer, is_active=False)
    response = send(client)
    assert page_messages(response) == [str(sms_codes.CODE_SENT % {"minutes": 5})]
    assert sms.outbox == []


def test_deactivated_between_send_and_verify(client, customer):
    send(client)
    code = last_code()
    customer_set_active(customer=customer, is_active=False)
    response = verify(client, code)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_staff_mobile_gets_nothing(client, staff):
    # Staff have no customer row, so no mobile of theirs can receive a portal code.
    send(client, "13600136000")
    assert sms.outbox == []


def test_invalid_mobile_is_a_form_error(client):
    response = client.post(SEND, {"mobile": "12345"})
    assert response.status_code == 200
    assert response.context["sms_send_form"].errors["mobile"]
    assert sms.outbox == []


def test_code_format_is_checked(client, customer):
    send(client)
    response = verify(client, "12ab")
    assert response.context["sms_form"].errors["code"]


@locmem_only
def test_code_expires_after_five_minutes(client, customer, clock):
    send(client)
    code = last_code()
    clock.advance(5 * 60 + 1)
    response = verify(client, code)
    assert response.context["sms_form"].errors["code"] == [str(sms_codes.CODE_EXPIRED)]
    assert "_auth_user_id" not in client.session


@locmem_only
def test_code_works_just_before_expiry(client, customer, clock):
    send(client)
    code = last_code()
    clock.advance(5 * 60 - 5)
    assert verify(client, code).status_code == 302


@override_settings(PORTAL_SMS_CODE_TTL=1)
def test_code_expires_in_the_real_cache(client, customer):
    # Real time, so Redis's own expiry is tested too.
    send(client)
    code = last_code()
    time.sleep(1.3)
    response = verify(client, code)
    assert response.context["sms_form"].errors["code"] == [str(sms_codes.CODE_EXPIRED)]
    assert "_auth_user_id" not in client.session


def test_code_is_single_use(client, customer):
    send(client)
    code = last_code()
    assert verify(client, code).status_code == 302
    other = Client()
    response = verify(other, code)
    assert response.context["sms_form"].errors["code"] == [str(sms_codes.CODE_EXPIRED)]
    assert "_auth_user_id" not in other.session


def test_five_wrong_tries_kill_the_code(client, customer):
    send(client)
    code = last_code()
    for remaining in (4, 3, 2, 1):
        response = verify(client, wrong(code))
        assert response.context["sms_form"].errors["code"] == [
            str(sms_codes.CODE_WRONG % {"remaining": remaining})
        ]
    response = verify(client, wrong(code))
    assert response.context["sms_form"].errors["code"] == [str(sms_codes.CODE_TOO_MANY_ATTEMPTS)]
    # The right code no longer works either.
    response = verify(client, code)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_new_code_resets_the_tries(client, customer):
    send(client)
    for _ in range(4):
        verify(client, wrong(last_code()))
    skip_cooldown()
    send(client)
    assert verify(client, last_code()).status_code == 302


def test_resend_waits_sixty_seconds(client, customer):
    send(client)
    response = send(client)
    assert page_messages(response) == [str(sms_codes.SEND_TOO_SOON % {"seconds": 60})]
    assert response.context["resend_wait"] == 60
    assert len(sms.outbox) == 1


@locmem_only
def test_resend_wait_counts_down(client, customer, clock):
    send(client)
    clock.advance(30)
    response = send(client)
    assert page_messages(response) == [str(sms_codes.SEND_TOO_SOON % {"seconds": 30})]
    assert response.context["resend_wait"] == 30


@override_settings(PORTAL_SMS_RESEND_COOLDOWN=1)
def test_resend_after_the_cooldown_and_only_the_newest_code_works(client, customer):
    send(client)
    time.sleep(1.3)
    send(client)
    assert len(sms.outbox) == 2
    old = re.search(r"\d{6}", sms.outbox[0].body).group()
    if old != last_code():
        assert verify(client, old).status_code == 200
    assert verify(client, last_code()).status_code == 302


@override_settings(PORTAL_SMS_LIMIT_WINDOW=2)
def test_hourly_limit_per_mobile(client, customer):
    for _ in range(5):
        send(client)
        skip_cooldown()
    response = send(client)
    assert page_messages(response) == [str(sms_codes.SEND_LIMIT_MOBILE)]
    assert len(sms.outbox) == 5
    time.sleep(2.3)  # the window passes
    send(client)
    assert len(sms.outbox) == 6


@override_settings(PORTAL_SMS_HOURLY_LIMIT_PER_IP=3)
def test_hourly_limit_per_ip(customer):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for n in range(3):
        send(client, f"1370013700{n}")
    response = send(client, MOBILE)
    assert page_messages(response) == [str(sms_codes.SEND_LIMIT_IP)]
    assert sms.outbox == []  # the three were strangers, the customer was refused
    assert send(Client(REMOTE_ADDR="10.1.1.2"), MOBILE).status_code == 200
    assert len(sms.outbox) == 1


@override_settings(SMS_BACKEND="portal.tests.test_login_sms.FailingSmsBackend")
def test_provider_failure_says_try_again(client, customer, caplog):
    with caplog.at_level("ERROR", logger="portal.sms"):
        response = send(client)
    assert response.status_code == 200
    assert page_messages(response) == [str(sms_codes.SEND_FAILED)]
    assert "not sent" in caplog.text
    assert "13800138000" not in caplog.text  # the number is masked in logs
    # No cooldown after a failure: the customer may try again at once.
    with override_settings(SMS_BACKEND="sms.backends.locmem.SmsBackend"):
        send(client)
    assert len(sms.outbox) == 1


@override_settings(SMS_BACKEND="portal.tests.test_login_sms.SilentlyFailingSmsBackend")
def test_backend_that_sends_nothing_counts_as_failure(client, customer):
    assert page_messages(send(client)) == [str(sms_codes.SEND_FAILED)]


@override_settings(SMS_BACKEND="portal.sms_backends.TencentSmsBackend", TENCENT_SMS={})
def test_misconfigured_provider_is_not_a_500(client, customer):
    response = send(client)
    assert response.status_code == 200
    assert page_messages(response) == [str(sms_codes.SEND_FAILED)]


def test_send_needs_post(client):
    assert client.get(SEND).status_code == 405
    assert client.get(VERIFY).status_code == 405
