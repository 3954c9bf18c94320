"""The client's address, as seen through the reverse proxies this deployment trusts.

Behind a TLS proxy every request's ``REMOTE_ADDR`` is the proxy, so per-address limits (the
portal's SMS limits, django-axes' lockout) would treat every customer as one. The proxy appends
the address it saw to ``X-Forwarded-For``; anybody can put anything in front of that. So the
header is read only when the peer is a trusted proxy (``TRUSTED_PROXIES``), from the right, and
the first address that is not itself a trusted proxy is the client. A request from any other
peer is that peer, whatever headers it sends.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def trusted_networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse ``TRUSTED_PROXIES`` entries (addresses or CIDR networks)."""
    networks = []
    for entry in spec:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an address or network"
            ) from exc
    return tuple(networks)


def parse_address(value: str) -> IPAddress | None:
    """An address from a header entry (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``), or None."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen on an IPv6 socket (::ffff:1.2.3.4) is the IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or through trusted proxies ``X-Forwarded-For``.

    Walks ``X-Forwarded-For`` from the right while each hop is a trusted proxy; the first
    untrusted address is the client. An unreadable entry stops the walk at the hop that
    reported it. ``""`` when not even ``REMOTE_ADDR`` is known.
    """
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    client = peer
    if networks and _is_trusted(peer, networks):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for entry in reversed(forwarded.split(",")) if forwarded else ():
            hop = parse_address(entry)
            if hop is None:
                break
            client = hop
            if not _is_trusted(hop, networks):
                break
    return str(client)
