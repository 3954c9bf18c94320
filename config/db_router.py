"""Read/write splitting (the seed's 读写分离): reads to a replica, writes to the primary."""

import random

from django.conf import settings
from django.db import connections

PRIMARY = "default"


class PrimaryReplicaRouter:
    """Send reads to a replica when one is configured, and everything else to the primary.

    A read inside a transaction on the primary stays on the primary, so a service that locks a
    row and then reads sees its own writes. Money code reads the primary explicitly
    (``.using("default")`` or ``select_for_update()``) and never depends on replica lag.
    """

    def db_for_read(self, model, **hints):
        """A replica, unless there is none or the primary is inside a transaction."""
        replicas = settings.DATABASE_READ_REPLICAS
        if not replicas or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        """Always the primary."""
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        """Primary and replicas hold the same data, so any relation between them is fine."""
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        """Migrate the primary only; replicas get the schema by replication."""
        return db == PRIMARY
