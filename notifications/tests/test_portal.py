"""The portal page: callback URL, secret, threshold, deliveries; scoped to the customer."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from customers.tests.factories import make_customer
from notifications.exceptions import NO_ENDPOINT
from notifications.models import Delivery, LowBalanceAlert, WebhookEndpoint
from notifications.services import endpoint_save, event_record

pytestmark = pytest.mark.django_db

URL = reverse("portal:notifications")


@pytest.fixture
def alice(db):
    return make_customer(username="alice", mobile="13800138000", name="Alice")


@pytest.fixture
def bob(db):
    return make_customer(username="bob", mobile="13900139000", name="Bob")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def a_delivery(customer) -> Delivery:
    endpoint_save(customer=customer, url="http://127.0.0.1:9/hook")
    event = event_record(customer_id=customer.pk, type="order.completed", payload={"n": 1})
    return event.delivery


def test_save_url_shows_a_secret_and_regenerates_it(alice_client, alice):
    response = alice_client.post(
        URL, {"action": "endpoint", "url": "http://127.0.0.1:8000/hook", "is_active": "on"}
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(customer=alice)
    assert endpoint.secret.startswith("whsec_") and endpoint.is_active
    page = alice_client.get(URL).content.decode()
    assert endpoint.secret in page
    alice_client.post(URL, {"action": "regenerate"})
    endpoint.refresh_from_db()
    assert endpoint.secret not in page and endpoint.secret.startswith("whsec_")


def test_refused_url_is_a_400_with_the_reason_and_writes_nothing(alice_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    response = alice_client.post(URL, {"action": "endpoint", "url": "http://93.184.216.34/h"})
    assert response.status_code == 400
    assert "https://" in response.content.decode()
    response = alice_client.post(URL, {"action": "endpoint", "url": "https://10.0.0.1/h"})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_threshold_is_saved_refused_and_turned_off(alice_client, alice):
    assert alice_client.post(URL, {"action": "threshold", "threshold": "abc"}).status_code == 400
    assert alice_client.post(URL, {"action": "threshold", "threshold": "-5"}).status_code == 400
    assert not LowBalanceAlert.objects.exists()
    assert alice_client.post(URL, {"action": "threshold", "threshold": "50"}).status_code == 302
    assert LowBalanceAlert.objects.get(customer=alice).threshold == Decimal("50.00")
    assert alice_client.post(URL, {"action": "threshold", "threshold": ""}).status_code == 302
    assert not LowBalanceAlert.objects.exists()


def test_regenerate_without_an_endpoint_says_so(alice_client):
    response = alice_client.post(URL, {"action": "regenerate"}, follow=True)
    with translation.override("zh-hans"):
        assert str(NO_ENDPOINT) in response.content.decode()


def test_unknown_action_is_a_400(alice_client):
    assert alice_client.post(URL, {"action": "nope"}).status_code == 400


def test_a_customer_sees_and_resends_only_their_own_deliveries(alice_client, alice, bob):
    mine = a_delivery(alice)
    theirs = a_delivery(bob)
    Delivery.objects.update(status=Delivery.Status.FAILED, next_try_at=None)
    page = alice_client.get(URL).content.decode()
    assert mine.event.event_id in page and theirs.event.event_id not in page
    resend = reverse("portal:delivery_resend", args=[theirs.pk])
    assert alice_client.post(resend).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Delivery.Status.FAILED
    assert alice_client.get(reverse("portal:delivery_resend", args=[mine.pk])).status_code == 405
    assert alice_client.post(reverse("portal:delivery_resend", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.status == Delivery.Status.PENDING and mine.next_try_at is not None


def test_anonymous_and_staff_are_sent_to_the_login(client, admin_user):
    assert client.get(URL).status_code == 302
    client.force_login(admin_user)
    assert client.get(URL).status_code == 302
