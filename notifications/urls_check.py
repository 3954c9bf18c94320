"""Which callback addresses may be called: https in production, never a private address.

Checked when the customer saves the address and again before every POST, on the addresses
the host resolves to at that moment (a DNS name may be re-pointed at 127.0.0.1 after it was
saved: DNS rebinding). The POST then goes to the address that was checked (delivery.py), not
to a second lookup.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from notifications.exceptions import (
    URL_HAS_CREDENTIALS,
    URL_NEEDS_HTTPS,
    URL_NOT_PUBLIC,
    URL_NOT_RESOLVED,
    URL_NOT_VALID,
    URL_REQUIRED,
    URL_TOO_LONG,
    InvalidCallbackUrl,
)

URL_MAX_LENGTH = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked callback: the URL as saved, its host and port, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def require_https() -> bool:
    return getattr(settings, "WEBHOOKS_REQUIRE_HTTPS", True)


def allow_private() -> bool:
    return getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False)


def is_public(address: IPAddress) -> bool:
    """Whether an address is a public unicast one (not loopback, private, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


def url_parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed callback URL, else InvalidCallbackUrl."""
    url = (url or "").strip()
    if not url:
        raise InvalidCallbackUrl(URL_REQUIRED)
    if len(url) > URL_MAX_LENGTH:
        raise InvalidCallbackUrl(URL_TOO_LONG, max=URL_MAX_LENGTH)
    if any(c.isspace() for c in url):
        raise InvalidCallbackUrl(URL_NOT_VALID)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidCallbackUrl(URL_NOT_VALID) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCallbackUrl(URL_NOT_VALID)
    if parts.username is not None or parts.password is not None:
        raise InvalidCallbackUrl(URL_HAS_CREDENTIALS)
    if scheme != "https" and require_https():
        raise InvalidCallbackUrl(URL_NEEDS_HTTPS)
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidCallbackUrl(URL_NOT_RESOLVED, host=host) from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InvalidCallbackUrl(URL_NOT_RESOLVED, host=host)
    return addresses


def url_check(url: str) -> Target:
    """The callback checked now: well-formed, https where required, every address public.

    Every address the host resolves to must be allowed (an attacker controlling DNS may
    answer differently per lookup); the first one is where the POST goes.
    """
    scheme, host, port = url_parse(url)
    addresses = _resolve(host, port)
    if not allow_private():
        for address in addresses:
            if not is_public(address):
                raise InvalidCallbackUrl(URL_NOT_PUBLIC, host=host, address=address)
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, address=str(addresses[0]))
