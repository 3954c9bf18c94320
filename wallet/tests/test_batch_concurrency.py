"""A batch confirmed twice at the same moment (two connections, MariaDB) recharges once; a
queued batch taken by two agents at once is applied once; the agent's side task applies it."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from customers.tests.factories import make_customer
from wallet.batch import (
    BatchError,
    batch_apply_next,
    batch_apply_side_task,
    batch_confirm,
    batch_preview,
)
from wallet.models import Entry, RechargeBatch
from wallet.selectors import balance_of

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]


def _confirm_together(batch_ids: list[int], actor) -> list:
    """Each id confirmed on its own thread (own connection), all released at once."""
    start = threading.Barrier(len(batch_ids))
    outcomes: list = [None] * len(batch_ids)

    def run(index: int) -> None:
        try:
            start.wait()
            outcomes[index] = batch_confirm(batch_id=batch_ids[index], actor=actor).status
        except BatchError as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batch_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _file(customers) -> bytes:
    lines = ["customer,amount,payment reference,method,memo"]
    lines += [
        f"{c.user.username},{i + 1}.50,REF{i},bank_transfer," for i, c in enumerate(customers)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_two_concurrent_confirms_of_one_batch_recharge_once(finance):
    customers = [make_customer() for _ in range(5)]
    batch = batch_preview(data=_file(customers), file_name="f.csv", uploaded_by=finance)
    outcomes = _confirm_together([batch.pk, batch.pk], finance)
    assert sorted(isinstance(o, BatchError) for o in outcomes) == [False, True]
    assert Entry.objects.count() == 5
    assert balance_of(customer_id=customers[0].pk) == Decimal("1.50")
    assert RechargeBatch.objects.get().status == RechargeBatch.Status.APPLIED


def test_two_batches_of_one_file_confirmed_together_recharge_once(finance):
    customers = [make_customer() for _ in range(5)]
    data = _file(customers)
    one = batch_preview(data=data, file_name="f.csv", uploaded_by=finance)
    two = batch_preview(data=data, file_name="f.csv", uploaded_by=finance)
    outcomes = _confirm_together([one.pk, two.pk], finance)
    assert outcomes == ["applied", "applied"]
    assert Entry.objects.count() == 5
    assert sum(b.result["created"] for b in RechargeBatch.objects.all()) == 5
    assert balance_of(customer_id=customers[4].pk) == Decimal("5.50")


@override_settings(WALLET_BATCH_SYNC_ROWS=2)
def test_two_agents_apply_a_queued_batch_once(finance):
    customers = [make_customer() for _ in range(5)]
    batch = batch_preview(data=_file(customers), file_name="f.csv", uploaded_by=finance)
    assert batch_confirm(batch_id=batch.pk, actor=finance).status == RechargeBatch.Status.QUEUED
    start = threading.Barrier(2)
    applied: list = []

    def agent() -> None:
        try:
            start.wait()
            applied.append(batch_apply_next())
        finally:
            connection.close()

    threads = [threading.Thread(target=agent) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # One took it; the other skipped the locked row (None) or found it already applied (None).
    assert sorted(b is None for b in applied) == [False, True]
    assert Entry.objects.count() == 5
    assert RechargeBatch.objects.get().status == RechargeBatch.Status.APPLIED


@override_settings(WALLET_BATCH_SYNC_ROWS=2, WALLET_BATCH_POLL_SECONDS=0.1)
def test_the_agent_side_task_applies_queued_batches(finance):
    customers = [make_customer() for _ in range(3)]
    batch = batch_preview(data=_file(customers), file_name="f.csv", uploaded_by=finance)
    batch_confirm(batch_id=batch.pk, actor=finance)
    stopping = threading.Event()
    worker = threading.Thread(target=batch_apply_side_task, args=(stopping,))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            if batch.status == RechargeBatch.Status.APPLIED:
                break
            time.sleep(0.1)
    finally:
        stopping.set()
        worker.join(timeout=30)
    assert batch.status == RechargeBatch.Status.APPLIED and Entry.objects.count() == 3
