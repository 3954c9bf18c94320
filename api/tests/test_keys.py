"""API keys: stored hashed, shown once, refused when revoked, deactivated, from a wrong
address, in a query string; last use written at most once a minute; each request logged."""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from api.exceptions import ApiKeyError
from api.models import ApiKey
from api.services import allowed_ips_parse, api_key_create, api_key_revoke, api_key_touch
from api.tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_and_shown_once(customer):
    key, token = api_key_create(customer=customer, label="  shop  ")
    assert token.startswith(f"op_{key.prefix}_") and len(token) > 40
    row = ApiKey.objects.get(pk=key.pk)
    assert row.label == "shop"
    assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert str(row) == f"shop (op_{key.prefix}…)"


def test_label_required_and_allowlist_parsed(customer):
    with pytest.raises(ApiKeyError):
        api_key_create(customer=customer, label=" ")
    assert allowed_ips_parse("203.0.113.7, 198.51.100.9/24\n2001:db8::/32 203.0.113.7") == [
        "203.0.113.7/32",
        "198.51.100.0/24",
        "2001:db8::/32",
    ]
    with pytest.raises(ApiKeyError, match="not-an-ip"):
        allowed_ips_parse("10.0.0.1 not-an-ip")
    assert ApiKey.objects.count() == 0


def test_good_key_by_bearer_and_by_x_api_key(token, service):
    assert ApiClient(token).get("/balance").status_code == 200
    assert ApiClient(None, **{"X-API-Key": token}).get("/balance").status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_key"),
        ({"Authorization": "Basic abc"}, "missing_key"),
        ({"Authorization": "Bearer "}, "missing_key"),
        ({"Authorization": "Bearer op_nothing_here"}, "invalid_key"),
        ({"Authorization": "Bearer nonsense"}, "invalid_key"),
    ],
)
def test_missing_or_unknown_key_is_401(headers, code, customer):
    response = ApiClient(None, **headers).get("/balance")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == code


def test_wrong_secret_with_a_real_prefix_is_401(token):
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = ApiClient(forged).get("/balance")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_revoked_key_stops_at_once(key_pair):
    key, token = key_pair
    api = ApiClient(token)
    assert api.get("/balance").status_code == 200
    api_key_revoke(key=key)
    response = api.get("/balance")
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"
    with pytest.raises(ApiKeyError):
        api_key_revoke(key=key)


@pytest.mark.parametrize("what", ["customer", "user"])
def test_deactivated_customer_keys_stop_at_once(what, customer, token):
    api = ApiClient(token)
    assert api.get("/balance").status_code == 200
    target = customer if what == "customer" else customer.user
    target.is_active = False
    target.save()
    response = api.get("/balance")
    assert response.status_code == 403
    assert response.json()["code"] == "customer_inactive"


def test_ip_allowlist(customer, settings):
    key, token = api_key_create(customer=customer, label="ip", allowed_ips=["198.51.100.0/24"])
    api = ApiClient(token)
    assert (
        api.client.get(
            "/api/v1/balance", headers=api.headers, REMOTE_ADDR="198.51.100.20"
        ).status_code
        == 200
    )
    refused = api.client.get("/api/v1/balance", headers=api.headers, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 403
    assert refused.json()["code"] == "ip_not_allowed"
    assert "203.0.113.5" in refused.json()["detail"]
    # Behind a trusted proxy the client address is read from X-Forwarded-For (core.net).
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    through_proxy = dict(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        api.client.get("/api/v1/balance", headers=api.headers, **through_proxy).status_code == 200
    )
    spoofed = dict(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert api.client.get("/api/v1/balance", headers=api.headers, **spoofed).status_code == 403


@pytest.mark.parametrize("name", ["api_key", "key", "token", "access_token", "API_KEY"])
def test_key_in_query_string_is_refused(name, token):
    response = ApiClient(None).get("/balance", {name: token})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "key_in_query"
    # Even next to a good header: the key in the URL is already leaked, say so.
    assert ApiClient(token).get("/balance", {name: token}).status_code == 400


def test_last_used_written_at_most_once_a_minute(key_pair, django_assert_num_queries):
    key, token = key_pair
    api = ApiClient(token)
    api.get("/balance")
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    api.get("/balance")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/balance")
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first - timedelta(seconds=1)
    # A fresh key object with a recent last_used_at writes nothing.
    key.last_used_at = timezone.now()
    with django_assert_num_queries(0):
        api_key_touch(key=key)


def test_each_request_is_logged_with_the_key_prefix(key_pair, caplog):
    key, token = key_pair
    with caplog.at_level(logging.INFO, logger="api"):
        ApiClient(token).get("/balance")
        ApiClient(None).get("/balance")
    lines = [r.getMessage() for r in caplog.records if r.name == "api"]
    assert any(f"GET /api/v1/balance 200 key=op_{key.prefix}" in line for line in lines)
    assert any("GET /api/v1/balance 401 key=-" in line for line in lines)
    assert not any(token in line for line in lines)
