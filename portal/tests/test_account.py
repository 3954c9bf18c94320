"""账户: the name, a mobile change that needs the code sent to the new number, log out
everywhere, login history."""

import re

import pytest
import sms
from django.test import Client
from django.urls import reverse

from portal.models import LoginRecord

pytestmark = pytest.mark.django_db


def code_in_last_sms(to: str) -> str:
    message = sms.outbox[-1]
    assert to in str(message.recipients)
    return re.search(r"\d{6}", message.body).group()


def test_the_account_page_links_the_password_change(portal_client):
    page = portal_client.get(reverse("portal:account")).content.decode()
    assert reverse("portal:password_change") in page


def test_name_change(portal_client, customer):
    portal_client.post(reverse("portal:account_profile"), {"name": "新名字"})
    customer.refresh_from_db()
    assert customer.name == "新名字"
    response = portal_client.post(reverse("portal:account_profile"), {"name": ""})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "新名字"


def test_mobile_change_needs_the_code_sent_to_the_new_number(portal_client, customer):
    old = customer.mobile
    portal_client.post(reverse("portal:account_mobile_send"), {"mobile": "13600136000"})
    code = code_in_last_sms("13600136000")
    wrong = "000000" if code != "000000" else "111111"
    response = portal_client.post(reverse("portal:account_mobile"), {"code": wrong})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.mobile == old
    portal_client.post(reverse("portal:account_mobile"), {"code": code})
    customer.refresh_from_db()
    assert customer.mobile.endswith("13600136000")
    # The code is single-use.
    response = portal_client.post(reverse("portal:account_mobile"), {"code": code})
    assert response.status_code == 400


def test_a_code_without_asking_changes_nothing(portal_client, customer):
    response = portal_client.post(reverse("portal:account_mobile"), {"code": "123456"})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.mobile.endswith("13800138000")


def test_another_customers_mobile_is_refused_and_nothing_is_sent(portal_client, other_customer):
    before = len(sms.outbox)
    response = portal_client.post(
        reverse("portal:account_mobile_send"), {"mobile": other_customer.mobile}
    )
    assert response.status_code == 400
    assert len(sms.outbox) == before


def test_log_out_everywhere_ends_the_other_sessions(customer):
    phone, laptop = Client(), Client()
    for browser in (phone, laptop):
        browser.force_login(customer.user)
    records = LoginRecord.objects.filter(user=customer.user)
    assert records.count() == 2  # force_login sends user_logged_in too
    assert laptop.get(reverse("portal:account")).status_code == 200
    page = phone.get(reverse("portal:account")).content.decode()
    assert page.count('class="session-card"') == 2

    phone.post(reverse("portal:account_sessions_end"))
    assert phone.get(reverse("portal:account")).status_code == 200
    response = laptop.get(reverse("portal:account"))
    assert response.status_code == 302 and "/portal/login/" in response["Location"]
    page = phone.get(reverse("portal:account")).content.decode()
    assert page.count('class="session-card"') == 1


def test_login_history_records_method_and_ip(client, customer):
    from customers.services import customer_set_password

    customer_set_password(customer=customer, password="a-long-test-password-1")
    client.post(
        reverse("portal:login"),
        {"identifier": customer.user.username, "password": "a-long-test-password-1"},
        REMOTE_ADDR="127.0.0.9",
    )
    record = LoginRecord.objects.get(user=customer.user)
    assert (record.method, record.ip_address) == ("password", "127.0.0.9")
    page = client.get(reverse("portal:account")).content.decode()
    assert "127.0.0.9" in page
