"""Callback URLs: https in production, never loopback/private/link-local/multicast addresses."""

import ipaddress
import socket

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from notifications import exceptions as errors
from notifications.delivery import deliver_due
from notifications.exceptions import InvalidCallbackUrl
from notifications.models import Delivery, WebhookEndpoint
from notifications.services import endpoint_save
from notifications.urls_check import is_public, url_check
from orders.tests.test_agent_support import funded_customer

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ],
)
def test_private_and_local_addresses_are_refused(production_urls, url):
    with pytest.raises(InvalidCallbackUrl) as exc:
        url_check(url)
    assert exc.value.message == str(errors.URL_NOT_PUBLIC) % exc.value.params


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", errors.URL_REQUIRED),
        ("   ", errors.URL_REQUIRED),
        (f"http://{PUBLIC}/hook", errors.URL_NEEDS_HTTPS),
        ("ftp://example.com/x", errors.URL_NOT_VALID),
        ("https://", errors.URL_NOT_VALID),
        ("example.com/hook", errors.URL_NOT_VALID),
        ("https://exa mple.com/", errors.URL_NOT_VALID),
        ("https://example.com:99999/", errors.URL_NOT_VALID),
        (f"https://user:pw@{PUBLIC}/hook", errors.URL_HAS_CREDENTIALS),
        ("https://" + "a" * 600 + ".com/", errors.URL_TOO_LONG % {"max": 500}),
    ],
)
def test_malformed_and_plain_http_urls_are_refused(production_urls, url, message):
    with pytest.raises(InvalidCallbackUrl) as exc:
        url_check(url)
    assert exc.value.message == str(message)


def test_public_https_address_is_accepted(production_urls):
    target = url_check(f"https://{PUBLIC}:8443/hooks?x=1")
    assert (target.scheme, target.host, target.port, target.address) == (
        "https",
        PUBLIC,
        8443,
        PUBLIC,
    )


def test_a_name_is_refused_if_any_address_it_resolves_to_is_private(production_urls, monkeypatch):
    def fake(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(InvalidCallbackUrl) as exc:
        url_check("https://hooks.example.com/x")
    assert "10.0.0.5" in exc.value.message


def test_unresolvable_host_is_refused(production_urls, monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(InvalidCallbackUrl) as exc:
        url_check("https://nowhere.example.com/x")
    assert exc.value.message == str(errors.URL_NOT_RESOLVED % {"host": "nowhere.example.com"})


@pytest.mark.django_db
def test_refused_url_writes_nothing(production_urls):
    customer = funded_customer()
    with pytest.raises(InvalidCallbackUrl):
        endpoint_save(customer=customer, url="https://127.0.0.1/hook")
    assert not WebhookEndpoint.objects.exists()


def _resolver(monkeypatch, answers: dict[str, str], calls: list[str]):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            calls.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.django_db
def test_dns_rebinding_is_refused_at_delivery_time(receiver, monkeypatch, settings):
    """Saved while the name pointed at a public address; at delivery it points at 127.0.0.1."""
    from notifications.tests.test_delivery import run_agent_once
    from orders.tests.test_agent_support import place

    settings.WEBHOOKS_ALLOW_PRIVATE = False
    answers, calls = {"hooks.example.com": PUBLIC}, []
    _resolver(monkeypatch, answers, calls)
    customer = funded_customer()
    endpoint_save(customer=customer, url=f"http://hooks.example.com:{receiver.port}/hook")
    answers["hooks.example.com"] = "127.0.0.1"
    place(customer)
    run_agent_once()
    assert deliver_due() == 1
    delivery = Delivery.objects.get()
    refused = str(errors.URL_NOT_PUBLIC) % {"host": "hooks.example.com", "address": "127.0.0.1"}
    assert delivery.last_error == refused and delivery.last_status_code is None
    assert receiver.received == []


@pytest.mark.django_db
def test_the_post_goes_to_the_checked_address_with_the_host_name(receiver, monkeypatch):
    """One lookup per try: the connection uses the address that was checked."""
    from notifications.tests.test_delivery import run_agent_once
    from orders.tests.test_agent_support import place

    calls = []
    _resolver(monkeypatch, {"hooks.example.com": "127.0.0.1"}, calls)
    customer = funded_customer()
    endpoint_save(customer=customer, url=f"http://hooks.example.com:{receiver.port}/hook?a=1")
    calls.clear()
    place(customer)
    run_agent_once()
    assert deliver_due() == 1
    assert calls == ["hooks.example.com"]
    [received] = receiver.received
    assert received["headers"]["host"] == f"hooks.example.com:{receiver.port}"
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


@hsettings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.builds(
            lambda scheme, rest: f"{scheme}://{rest}",
            st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
            st.text(max_size=60),
        ),
    )
)
def test_any_text_is_a_clear_refusal_or_a_checked_target(text):
    """Whatever is typed, the answer is a message (never an exception of another kind)."""

    def no_dns(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise socket.gaierror("no DNS in this test") from None
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]

    real = socket.getaddrinfo
    socket.getaddrinfo = no_dns
    try:
        with override_settings(WEBHOOKS_REQUIRE_HTTPS=True, WEBHOOKS_ALLOW_PRIVATE=False):
            target = url_check(text)
    except InvalidCallbackUrl as exc:
        assert exc.message
    else:
        assert target.scheme == "https" and is_public(ipaddress.ip_address(target.address))
    finally:
        socket.getaddrinfo = real
