"""The read/write router (the seed's 读写分离)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from config.db_router import PrimaryReplicaRouter

User = get_user_model()
router = PrimaryReplicaRouter()


@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_reads_go_to_the_replica_and_writes_to_the_primary():
    assert router.db_for_read(User) == "replica"
    assert router.db_for_write(User) == "default"


@override_settings(DATABASE_READ_REPLICAS=[])
def test_without_a_replica_everything_uses_the_primary():
    assert router.db_for_read(User) == "default"
    assert router.db_for_write(User) == "default"


@pytest.mark.django_db(transaction=True)
@override_settings(DATABASE_READ_REPLICAS=["replica"])
def test_a_read_inside_a_transaction_on_the_primary_stays_on_the_primary():
    with transaction.atomic():
        assert router.db_for_read(User) == "default"
    assert router.db_for_read(User) == "replica"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "customers") is True
    assert router.allow_migrate("replica", "customers") is False


def test_replica_url_configures_a_mirrored_alias(monkeypatch):
    """DATABASE_REPLICA_URL adds a `replica` alias that mirrors the primary in tests."""
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("DATABASE_REPLICA_URL", "sqlite:////tmp/replica.sqlite3")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.DATABASES["replica"]["TEST"] == {"MIRROR": "default"}
        assert reloaded.DATABASE_READ_REPLICAS == ["replica"]
    finally:
        monkeypatch.delenv("DATABASE_REPLICA_URL")
        importlib.reload(base)
