"""分库: DATABASE_LOGS_URL moves the log tables to their own database (and only them).

Each test runs manage.py in a subprocess against fresh SQLite files, so the real settings
module reads DATABASE_LOGS_URL the way a deployment does.
"""

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG_TABLES = {
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "axes_accessattemptexpiration",
}


def manage(tmp_path, *args, logs=True, stdin=None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
        "REDIS_URL": "",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    env.pop("DATABASE_LOGS_URL", None)
    if logs:
        env["DATABASE_LOGS_URL"] = f"sqlite:///{tmp_path / 'logs.sqlite3'}"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("logsdb")
    manage(tmp_path, "migrate", "--noinput")
    manage(tmp_path, "migrate", "--noinput", "--database", "logs")
    return tmp_path


def test_migrate_puts_exactly_the_log_tables_on_logs(migrated):
    logs = tables(migrated / "logs.sqlite3")
    default = tables(migrated / "default.sqlite3")
    assert logs == LOG_TABLES | {"django_migrations"}
    assert not default & LOG_TABLES
    # Every business table stays on the primary, money first.
    assert {"wallet_account", "wallet_entry", "orders_order", "customers_customer"} <= default


def test_the_app_writes_login_attempts_to_the_logs_database(migrated):
    script = textwrap.dedent(
        """
        import sqlite3
        from axes.models import AccessAttempt
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client
        get_user_model().objects.create_superuser("boss", "b@example.com", "pw-boss-12345")
        client = Client()
        response = client.post("/admin/login/", {"username": "boss", "password": "wrong"})
        assert response.status_code == 200, response.status_code
        assert AccessAttempt.objects.all().db == "logs"
        assert AccessAttempt.objects.get().failures_since_start == 1
        logs_file = settings.DATABASES["logs"]["NAME"]
        with sqlite3.connect(logs_file) as db:
            assert db.execute("SELECT COUNT(*) FROM axes_accessattempt").fetchone()[0] == 1
        response = client.post("/admin/login/", {"username": "boss", "password": "pw-boss-12345"})
        assert response.status_code == 302, response.status_code
        assert client.get("/admin/axes/accesslog/").status_code == 200
        assert client.get("/healthz").status_code == 200
        print("OK")
        """
    )
    result = manage(migrated, "shell", "-c", script)
    assert result.stdout.strip().endswith("OK"), result.stderr
    with sqlite3.connect(migrated / "logs.sqlite3") as db:
        logins = db.execute("SELECT COUNT(*) FROM axes_accesslog").fetchone()[0]
        attempts = db.execute("SELECT COUNT(*) FROM axes_accessattempt").fetchone()[0]
    assert logins == 1  # the successful login's access log
    assert attempts == 0  # the failure was reset by the success (AXES_RESET_ON_SUCCESS)


def test_without_a_logs_database_everything_stays_on_default(tmp_path):
    manage(tmp_path, "migrate", "--noinput", logs=False)
    assert LOG_TABLES <= tables(tmp_path / "default.sqlite3")
    assert not (tmp_path / "logs.sqlite3").exists()
