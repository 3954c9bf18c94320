"""API key writes and the per-request key check (api.auth calls ``api_key_authenticate``)."""

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.exceptions import (
    IP_ALLOWLIST_INVALID,
    IP_ALLOWLIST_TOO_LONG,
    KEY_ALREADY_REVOKED,
    KEY_CUSTOMER_INACTIVE,
    KEY_INVALID,
    KEY_IP_NOT_ALLOWED,
    KEY_REVOKED,
    LABEL_REQUIRED,
    TOO_MANY_KEYS,
    ApiKeyError,
    ApiKeyForbidden,
    ApiKeyInvalid,
)
from api.models import ApiKey
from core.net import parse_address
from customers.models import Customer

PRIMARY = "default"
KEY_PREFIX = "op_"
PREFIX_LENGTH = 8
MAX_ALLOWED_IPS = 50
MAX_ACTIVE_KEYS = 20  # per customer: enough for every system a reseller runs
# last_used_at is written at most this often per key: a busy key costs one UPDATE a minute.
TOUCH_INTERVAL = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def allowed_ips_parse(text: str) -> list[str]:
    """Addresses or networks separated by commas, spaces or new lines, normalised
    (``198.51.100.7/24`` → ``198.51.100.0/24``); ApiKeyError names the first bad entry."""
    entries = [e for e in text.replace(",", " ").split() if e]
    if len(entries) > MAX_ALLOWED_IPS:
        raise ApiKeyError(IP_ALLOWLIST_TOO_LONG, max=MAX_ALLOWED_IPS)
    networks = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ApiKeyError(IP_ALLOWLIST_INVALID, entry=entry) from exc
        if str(network) not in networks:
            networks.append(str(network))
    return networks


def api_key_create(
    *,
    customer: Customer,
    label: str,
    allowed_ips: list[str] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``customer``: the row and the full key, which is never available again."""
    label = (label or "").strip()
    if not label:
        raise ApiKeyError(LABEL_REQUIRED)
    allowed = allowed_ips_parse(" ".join(allowed_ips or []))
    with transaction.atomic(using=PRIMARY):
        # The customer's row lock serialises two creations at once, so the count below cannot
        # let both through to MAX_ACTIVE_KEYS + 1.
        Customer.objects.using(PRIMARY).select_for_update().filter(pk=customer.pk).first()
        active = ApiKey.objects.using(PRIMARY).filter(customer=customer, revoked_at__isnull=True)
        if active.count() >= MAX_ACTIVE_KEYS:
            raise ApiKeyError(TOO_MANY_KEYS, max=MAX_ACTIVE_KEYS)
        while True:
            prefix = secrets.token_hex(PREFIX_LENGTH // 2)
            if not ApiKey.objects.using(PRIMARY).filter(prefix=prefix).exists():
                break
        token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey.objects.using(PRIMARY).create(
            customer=customer,
            label=label[:100],
            prefix=prefix,
            secret_hash=_hash(token),
            allowed_ips=allowed,
            created_by=created_by,
        )
    return key, token


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key now; the next request with it is refused."""
    with transaction.atomic(using=PRIMARY):
        updated = (
            ApiKey.objects.using(PRIMARY)
            .filter(pk=key.pk, revoked_at__isnull=True)
            .update(revoked_at=timezone.now())
        )
        if not updated:
            raise ApiKeyError(KEY_ALREADY_REVOKED)
    key.refresh_from_db(using=PRIMARY)
    return key


def api_key_set_allowed_ips(*, key: ApiKey, text: str) -> ApiKey:
    """Replace the key's address allowlist (empty text: any address)."""
    key.allowed_ips = allowed_ips_parse(text)
    key.save(using=PRIMARY, update_fields=["allowed_ips"])
    return key


def _ip_allowed(key: ApiKey, ip: str) -> bool:
    if not key.allowed_ips:
        return True
    address = parse_address(ip)
    if address is None:
        return False
    for entry in key.allowed_ips:
        network = ipaddress.ip_network(entry, strict=False)
        if network.version == address.version and address in network:
            return True
    return False


def api_key_authenticate(*, token: str, ip: str) -> ApiKey:
    """The active key for ``token`` used from ``ip``, with its customer and level; otherwise
    ApiKeyInvalid (401) or ApiKeyForbidden (403).

    Read from the primary on every request: a revoked key or a deactivated customer stops at
    once, never after a replica or a cache catches up.
    """
    token = token.strip()
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        raise ApiKeyInvalid(KEY_INVALID)
    prefix, _sep, _secret = token[len(KEY_PREFIX) :].partition("_")
    key = (
        ApiKey.objects.using(PRIMARY)
        .select_related("customer__user", "customer__level")
        .filter(prefix=prefix)
        .first()
    )
    # compare_digest even when no row matched, so timing does not tell a known prefix.
    expected = key.secret_hash if key is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(token)) or key is None:
        raise ApiKeyInvalid(KEY_INVALID)
    if key.revoked_at is not None:
        raise ApiKeyInvalid(KEY_REVOKED, code="key_revoked")
    customer = key.customer
    if not (customer.is_active and customer.user.is_active):
        raise ApiKeyForbidden(KEY_CUSTOMER_INACTIVE, code="customer_inactive")
    if not _ip_allowed(key, ip):
        raise ApiKeyForbidden(KEY_IP_NOT_ALLOWED, ip=ip or "?")
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record the key's last use, at most once per TOUCH_INTERVAL (one conditional UPDATE)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_INTERVAL:
        return
    ApiKey.objects.using(PRIMARY).filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)
    ).update(last_used_at=now)
    key.last_used_at = now
