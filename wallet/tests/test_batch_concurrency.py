"""A batch confirmed twice at the same moment (two connections, MariaDB) recharges once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from customers.tests.factories import make_customer
from wallet.batch import BatchError, batch_confirm, batch_preview
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
