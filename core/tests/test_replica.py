"""Read/write splitting against a real, replicating MariaDB replica (marker ``replica``).

Run by .ci/run after ``deploy/local/cluster.sh up``::

    eval "$(deploy/local/cluster.sh env | sed 's/^/export /')"
    REPLICA_TESTS=1 REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/pytest -m replica -p no:xdist

The replica's lag is made real on the replica itself: ``FLUSH TABLES WITH READ LOCK`` holds its
SQL thread (replication running, ``Seconds_Behind_Master`` growing), ``STOP SLAVE SQL_THREAD``
stops it, and ``cluster.sh stop replica`` kills the server. These tests change the shared
replica's state, so they run in one process (no xdist).
"""

import os
import subprocess
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config import db_router
from config.db_router import PrimaryReplicaRouter, replica_status
from customers.models import Level
from customers.tests.factories import LevelFactory, make_customer
from orders.models import Order
from orders.tests.factories import ServiceFactory
from wallet.selectors import balance_of
from wallet.services import wallet_recharge

pytestmark = [
    pytest.mark.replica,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "local" / "cluster.sh"
router = PrimaryReplicaRouter()


@pytest.fixture(autouse=True)
def _fresh_replica_state(settings, monkeypatch):
    """Measure every time (no cache between steps), with a short lag threshold."""
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    settings.DATABASE_REPLICA_MAX_LAG = 2
    monkeypatch.setattr(db_router, "_process_primary_only", False)
    db_router.forget_replica_status()
    yield
    db_router.forget_replica_status()


def admin_connection():
    """Root on the replica (the application's own replica user may only SELECT)."""
    url = os.environ.get("DATABASE_REPLICA_ADMIN_URL")
    replica = settings.DATABASES["replica"]
    if url:
        parsed = urlparse(url)
        host, port, user = parsed.hostname, parsed.port, parsed.username
    else:
        host, port, user = replica["HOST"], int(replica["PORT"]), "root"
    import MySQLdb  # production requirements only: the SQLite leg collects this file too

    return MySQLdb.connect(host=host, port=int(port), user=user, passwd="", autocommit=True)


def replica_sql(statement):
    conn = admin_connection()
    try:
        cursor = conn.cursor()
        cursor.execute(statement)
        return cursor.fetchall()
    finally:
        conn.close()


def wait_replicated(timeout=30):
    """Wait until the replica has applied everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT @@gtid_binlog_pos")
        (position,) = cursor.fetchone()
    (result,) = replica_sql(f"SELECT MASTER_GTID_WAIT('{position}', {timeout})")[0]
    assert result == 0, f"the replica did not reach GTID {position} in {timeout} s"


@contextmanager
def replica_held():
    """Replication keeps running but nothing is applied: FLUSH TABLES WITH READ LOCK."""
    conn = admin_connection()
    try:
        conn.cursor().execute("FLUSH TABLES WITH READ LOCK")
        yield
    finally:
        conn.cursor().execute("UNLOCK TABLES")
        conn.close()


def wait_for_state(state, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        status = replica_status("replica", fresh=True)
        if status.state == state or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def on_replica(level_name):
    return Level.objects.using("replica").filter(name=level_name).exists()


def test_the_replica_really_replicates():
    wait_replicated()
    assert replica_status("replica", fresh=True).state == "ok"
    level = LevelFactory(name=f"r-{uuid.uuid4().hex[:8]}")
    wait_replicated()
    assert on_replica(level.name)
    # The application's replica account cannot write there.
    with pytest.raises(Exception, match="read-only|denied"):
        Level.objects.using("replica").filter(pk=level.pk).update(display_order=9)


def test_a_customer_sees_the_order_they_just_placed_while_the_replica_is_behind(client):
    """A real POST through the portal, then the order list at once: read-your-writes."""
    level = LevelFactory(name="黄金", discount_percent=90)
    customer = make_customer(username="alice", level=level)
    wallet_recharge(
        customer_id=customer.pk,
        amount=Decimal("1000.00"),
        created_by=None,
        idempotency_key=f"test-{uuid.uuid4().hex}",
        memo="test",
    )
    service = ServiceFactory(name="网站访问", tiers=[(1, "1.00")])
    wait_replicated()
    client.force_login(customer.user)
    # A second browser of the same customer that has not written anything.
    other = type(client)()
    other.force_login(customer.user)
    wait_replicated()
    with replica_held():
        data = {
            "service": service.pk,
            "target": "https://example.com/page",
            "quantity": "100",
            "idempotency_key": str(uuid.uuid4()),
        }
        page = client.post(reverse("portal:order_new"), data)
        form = page.context["form"]
        confirm = {name: form[name].value() for name in form.fields}
        response = client.post(reverse("portal:order_confirm"), confirm)
        assert response.status_code == 302
        order = Order.objects.using("default").get()
        assert replica_status("replica", fresh=True).state == "ok"  # behind, but under the limit
        # The browser that wrote reads the primary: its new order and its new balance are there.
        listing = client.get(reverse("portal:order_list"))
        assert order.number in listing.content.decode()
        assert balance_of(customer_id=customer.pk) == Decimal("910.00")
        # The other browser reads the replica, which has not applied the order yet.
        assert order.number not in other.get(reverse("portal:order_list")).content.decode()
    wait_replicated()
    assert order.number in other.get(reverse("portal:order_list")).content.decode()


def test_reads_leave_a_lagging_replica_and_healthz_says_so(client):
    wait_replicated()
    name = f"lag-{uuid.uuid4().hex[:8]}"
    with replica_held():
        LevelFactory(name=name)  # committed on the primary, not applied on the replica
        status = wait_for_state("lagging")
        assert status.state == "lagging", status
        assert status.lag > settings.DATABASE_REPLICA_MAX_LAG
        assert router.db_for_read(Level) == "default"
        assert Level.objects.filter(name=name).exists()  # routed: the primary has it
        assert not on_replica(name)
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["checks"]["replica"].startswith("lagging ")
        assert body["checks"]["replica"].endswith(" s")
        assert body["degraded"] == ["replica"]
        assert body["failing"] == []
    wait_replicated()
    assert wait_for_state("ok").state == "ok"
    assert router.db_for_read(Level) == "replica"
    assert on_replica(name)


def test_reads_leave_a_replica_whose_replication_is_stopped(client):
    wait_replicated()
    replica_sql("STOP SLAVE SQL_THREAD")
    try:
        name = f"stop-{uuid.uuid4().hex[:8]}"
        LevelFactory(name=name)
        assert wait_for_state("stopped").state == "stopped"
        assert router.db_for_read(Level) == "default"
        assert Level.objects.filter(name=name).exists()
        assert not on_replica(name)
        body = client.get("/healthz").json()
        assert body["checks"]["replica"] == "stopped"
        assert body["status"] == "ok"
    finally:
        replica_sql("START SLAVE SQL_THREAD")
    wait_replicated()
    assert wait_for_state("ok").state == "ok"


def test_money_and_agent_queries_never_reach_the_replica(client):
    level = LevelFactory(name="白银", discount_percent=100)
    customer = make_customer(username="carol", level=level)
    service = ServiceFactory(name="代办", tiers=[(1, "1.00")], backend="locmem")
    wait_replicated()
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica_db,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        wallet_recharge(
            customer_id=customer.pk,
            amount=Decimal("100.00"),
            created_by=None,
            idempotency_key=f"test-{uuid.uuid4().hex}",
            memo="test",
        )
        assert balance_of(customer_id=customer.pk) == Decimal("100.00")
        client.force_login(customer.user)
        # Pages that show money, read by a browser that has not written (no pin).
        client.cookies.pop(db_router.READ_YOUR_WRITES_COOKIE, None)
        assert client.get(reverse("portal:dashboard")).status_code == 200
        assert client.get(reverse("portal:transaction_list")).status_code == 200
    replica_sql_text = " ".join(q["sql"] for q in on_replica_db.captured_queries)
    assert on_replica_db.captured_queries, "nothing read the replica: the capture proves nothing"
    assert "wallet_" not in replica_sql_text
    assert "wallet_" in " ".join(q["sql"] for q in on_primary.captured_queries)

    from orders.services import order_place

    order_place(customer=customer, service=service, target="https://example.com/a", quantity=5)
    wait_replicated()
    with CaptureQueriesContext(connections["replica"]) as during_agent:
        call_command("run_agent", "--once", verbosity=0)
    assert during_agent.captured_queries == []
    assert Order.objects.using("default").get().status != Order.Status.PENDING


def test_every_page_still_works_with_the_replica_process_stopped(client):
    from django.contrib import admin

    User = get_user_model()
    admin_user = User.objects.create_superuser("root-admin", "a@example.com", "pw-admin-123")
    level = LevelFactory(name="钻石")
    customer = make_customer(username="dave", level=level)
    wait_replicated()
    subprocess.run([str(CLUSTER), "stop", "replica"], check=True, timeout=120)
    try:
        assert wait_for_state("down").state == "down"
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["checks"]["replica"] == "down"

        client.force_login(admin_user)
        urls = ["/admin/"]
        for model in admin.site._registry:
            opts = model._meta
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse("admin:customers_customer_change", args=[customer.pk]))
        for url in urls:
            assert client.get(url).status_code == 200, url

        client.logout()
        client.force_login(customer.user)
        for name in ("dashboard", "order_list", "order_new", "transaction_list"):
            url = reverse(f"portal:{name}")
            assert client.get(url).status_code == 200, url
    finally:
        subprocess.run([str(CLUSTER), "up"], check=True, timeout=180, capture_output=True)
    db_router.forget_replica_status()
    wait_replicated()
    assert wait_for_state("ok").state == "ok"
