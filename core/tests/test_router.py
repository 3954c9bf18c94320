"""The read/write router (the seed's 读写分离): rules, read-your-writes, replica states.

The same rules against a real replicating MariaDB: core/tests/test_replica.py (marker replica).
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config import db_router
from config.db_router import (
    READ_YOUR_WRITES_COOKIE,
    PrimaryReplicaRouter,
    ReadYourWritesMiddleware,
    ReplicaStatus,
    primary_reads,
)
from customers.models import Level
from wallet.models import Account, Entry

User = get_user_model()
router = PrimaryReplicaRouter()


@pytest.fixture
def replica_state(monkeypatch):
    """Set what the (pretend) replica reports: ``replica_state["replica"] = ReplicaStatus(…)``."""
    states = {"replica": ReplicaStatus("ok", lag=0)}
    monkeypatch.setattr(db_router, "replica_status", lambda alias, fresh=False: states[alias])
    monkeypatch.setattr(db_router, "_process_primary_only", False)
    return states


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_reads_go_to_a_healthy_replica_and_writes_to_the_primary(replica_state):
    assert router.db_for_read(User) == "replica"
    assert router.db_for_write(User) == "default"


@override_settings(DATABASE_READ_REPLICAS=[])
def test_without_a_replica_everything_uses_the_primary():
    assert router.db_for_read(User) == "default"
    assert router.db_for_write(User) == "default"


@pytest.mark.parametrize(
    "status",
    [
        ReplicaStatus("lagging", lag=12),
        ReplicaStatus("stopped"),
        ReplicaStatus("down", detail="OperationalError"),
    ],
    ids=["lagging", "stopped", "down"],
)
@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_a_lagging_stopped_or_unreachable_replica_is_left_out(replica_state, status):
    replica_state["replica"] = status
    assert router.db_for_read(User) == "default"


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_money_sessions_and_lockouts_never_read_the_replica(replica_state):
    assert router.db_for_read(Account) == "default"
    assert router.db_for_read(Entry) == "default"
    assert router.db_for_read(Session) == "default"
    assert router.db_for_read(Level) == "replica"


@pytest.mark.django_db(transaction=True)
@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_a_read_inside_a_transaction_on_the_primary_stays_on_the_primary(replica_state):
    with transaction.atomic():
        assert router.db_for_read(User) == "default"
    assert router.db_for_read(User) == "replica"


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_pinned_reads_and_a_primary_only_process_read_the_primary(replica_state, monkeypatch):
    with primary_reads():
        assert router.db_for_read(User) == "default"
    assert router.db_for_read(User) == "replica"
    monkeypatch.setattr(db_router, "_process_primary_only", True)
    assert router.db_for_read(User) == "default"


def test_the_agent_command_pins_its_process_to_the_primary(monkeypatch):
    """run_agent calls use_primary_only() before it starts (its threads share the flag)."""
    calls = []
    monkeypatch.setattr(
        "orders.management.commands.run_agent.use_primary_only", lambda: calls.append(1)
    )
    monkeypatch.setattr("orders.management.commands.run_agent.Runner", _StopRunner)
    from django.core.management import call_command

    with pytest.raises(_Stop):
        call_command("run_agent", "--once")
    assert calls == [1]


class _Stop(Exception):
    pass


class _StopRunner:
    def __init__(self, **kwargs):
        raise _Stop


def test_only_the_primary_is_migrated_without_a_logs_database():
    assert router.allow_migrate("default", "customers", model_name="customer") is True
    assert router.allow_migrate("default", "axes", model_name="accessattempt") is True
    assert router.allow_migrate("replica", "customers", model_name="customer") is False
    assert router.allow_migrate("logs", "axes", model_name="accessattempt") is False


def test_with_a_logs_database_the_log_tables_move_and_nothing_else(monkeypatch):
    monkeypatch.setattr(db_router, "logs_enabled", lambda: True)  # DATABASE_LOGS_URL is set
    from axes.models import AccessAttempt, AccessLog

    assert router.allow_migrate("logs", "axes", model_name="accessattempt") is True
    assert router.allow_migrate("logs", "axes", model_name="accesslog") is True
    assert router.allow_migrate("logs", "axes", model_name="accessattemptexpiration") is True
    assert router.allow_migrate("default", "axes", model_name="accessattempt") is False
    assert router.allow_migrate("logs", "wallet", model_name="entry") is False
    assert router.allow_migrate("default", "wallet", model_name="entry") is True
    # RunPython/RunSQL without a model stay on the primary.
    assert router.allow_migrate("logs", "customers") is False
    assert router.db_for_write(AccessAttempt) == "logs"
    assert router.db_for_read(AccessLog) == "logs"
    assert router.db_for_write(Entry) == "default"


# ---------------------------------------------------------------------------------------------
# Read-your-writes middleware
# ---------------------------------------------------------------------------------------------


def _run(middleware_view, cookies=None):
    request = RequestFactory().post("/")
    for name, value in (cookies or {}).items():
        request.COOKIES[name] = value
    return ReadYourWritesMiddleware(middleware_view)(request)


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as in production
@override_settings(DATABASE_READ_REPLICAS=["replica"], DATABASE_READ_YOUR_WRITES_SECONDS=10)
def test_a_request_that_writes_pins_the_browser_to_the_primary(replica_state):
    seen = {}

    def writes(request):
        seen["before"] = router.db_for_read(User)
        Level.objects.create(name="金牌", discount_percent=5)
        seen["after"] = router.db_for_read(User)  # the same request sees its own write
        return HttpResponse("ok")

    response = _run(writes)
    assert seen == {"before": "replica", "after": "default"}
    assert READ_YOUR_WRITES_COOKIE in response.cookies
    cookie = response.cookies[READ_YOUR_WRITES_COOKIE]
    assert cookie["max-age"] == 10
    assert cookie["httponly"]

    def reads(request):
        seen["next"] = router.db_for_read(User)
        return HttpResponse("ok")

    # The next request of that browser reads the primary; another browser the replica.
    _run(reads, cookies={READ_YOUR_WRITES_COOKIE: cookie.value})
    assert seen["next"] == "default"
    _run(reads)
    assert seen["next"] == "replica"
    # After the request, nothing stays pinned in this thread.
    assert router.db_for_read(User) == "replica"


@pytest.mark.django_db
@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_a_request_that_only_reads_sets_no_cookie(replica_state):
    def reads(request):
        list(Level.objects.using("default").all())
        return HttpResponse("ok")

    assert READ_YOUR_WRITES_COOKIE not in _run(reads).cookies


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_a_forged_or_expired_cookie_does_not_pin(replica_state, settings):
    seen = {}

    def reads(request):
        seen["db"] = router.db_for_read(User)
        return HttpResponse("ok")

    _run(reads, cookies={READ_YOUR_WRITES_COOKIE: "1:forged:signature"})
    assert seen["db"] == "replica"

    import time

    from django.core import signing

    signer = signing.get_cookie_signer(salt=READ_YOUR_WRITES_COOKIE + db_router._COOKIE_SALT)
    signer.timestamp = lambda: signing.b62_encode(int(time.time()) - 60)  # written 60 s ago
    _run(reads, cookies={READ_YOUR_WRITES_COOKIE: signer.sign("1")})
    assert seen["db"] == "replica"


# ---------------------------------------------------------------------------------------------
# Measuring a replica, and /healthz
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_server_that_does_not_replicate_is_not_used_as_a_replica():
    """The measurement runs on the given alias; the primary itself is no replica."""
    status = db_router._measure("default")
    if connection.vendor == "sqlite":
        assert status.usable
    else:
        assert status.state == "stopped"


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_an_unknown_replica_alias_is_down():
    db_router.forget_replica_status()
    try:
        status = db_router.replica_status("replica")
    finally:
        db_router.forget_replica_status()
    assert status.state == "down"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (ReplicaStatus("ok", lag=0), "ok"),
        (ReplicaStatus("lagging", lag=12), "lagging 12 s"),
        (ReplicaStatus("stopped"), "stopped"),
        (ReplicaStatus("down"), "down"),
    ],
)
def test_healthz_shows_the_replica_without_failing(client, replica_state, settings, status, shown):
    settings.DATABASE_READ_REPLICAS = ["replica"]
    replica_state["replica"] = status
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["replica"] == shown
    assert body["failing"] == []
    assert body["degraded"] == ([] if shown == "ok" else ["replica"])
