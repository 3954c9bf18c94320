"""core.net.client_ip: X-Forwarded-For is believed only through the trusted proxies."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from core.net import client_ip

PROXY = "10.0.0.2"


def ip(remote_addr: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored():
    assert ip("203.0.113.9", "198.51.100.1") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=[PROXY])
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # The proxy appends the address it saw.
        (PROXY, "198.51.100.7", "198.51.100.7"),
        # Whatever the client wrote in front of that is not read.
        (PROXY, "1.1.1.1, 198.51.100.7", "198.51.100.7"),
        (PROXY, "  198.51.100.7 ", "198.51.100.7"),
        (PROXY, "198.51.100.7:51234", "198.51.100.7"),
        (PROXY, "[2001:db8::5]:443", "2001:db8::5"),
        (PROXY, "2001:db8::5", "2001:db8::5"),
        # The proxy sent no header: the proxy is all we know.
        (PROXY, None, PROXY),
        (PROXY, "", PROXY),
        # An unreadable entry stops the walk at the hop that reported it.
        (PROXY, "198.51.100.7, not-an-ip", PROXY),
        # Not from the proxy: the header is somebody's claim, the peer is the client.
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),
        ("203.0.113.9", PROXY, "203.0.113.9"),
        # IPv4 seen on an IPv6 socket.
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_one_trusted_proxy(remote, forwarded, expected):
    assert ip(remote, forwarded) == expected


@override_settings(TRUSTED_PROXIES=["10.0.0.0/24", "fd00::/8"])
def test_a_chain_of_trusted_proxies_is_walked_from_the_right():
    assert ip("10.0.0.2", "198.51.100.7, 10.0.0.5") == "198.51.100.7"
    assert ip("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.5") == "198.51.100.7"
    assert ip("fd00::1", "198.51.100.7, 10.0.0.5") == "198.51.100.7"
    # Every hop trusted: the leftmost is as far as anyone can tell.
    assert ip("10.0.0.2", "10.0.0.9, 10.0.0.5") == "10.0.0.9"


def test_no_remote_addr_is_empty():
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == ""


@override_settings(TRUSTED_PROXIES=["10.0.0.0/33"])
def test_a_malformed_setting_is_refused():
    with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
        ip(PROXY, "198.51.100.7")
