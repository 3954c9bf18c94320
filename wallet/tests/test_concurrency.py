"""The money rules under real concurrency, on MariaDB with one connection per thread.

Threads hammer the same few accounts with recharges, deducts, order debits and refunds; then
the ledger must reconcile, every balance must equal the arithmetic of the operations that
succeeded, no balance may ever have gone negative, and refused operations wrote nothing.
"""

import logging
import random
import threading
import time
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Min
from django.utils import translation

from customers.tests.factories import make_customer
from wallet.exceptions import IdempotencyConflict, InsufficientFunds
from wallet.models import Account, Entry
from wallet.services import (
    wallet_debit_order,
    wallet_deduct,
    wallet_recharge,
    wallet_refund_order,
)

pytestmark = [pytest.mark.concurrent_db, pytest.mark.django_db(transaction=True)]

THREADS = 10
SECONDS = 4.0
START_BALANCE = Decimal("100.00")


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"


def test_random_concurrent_money_movements_reconcile(caplog):
    caplog.set_level(logging.WARNING, logger="wallet.services")
    customers = [make_customer() for _ in range(3)]
    for customer in customers:
        wallet_recharge(
            customer_id=customer.pk,
            amount=START_BALANCE,
            created_by=None,
            idempotency_key=f"seed:{customer.pk}",
        )

    lock = threading.Lock()
    succeeded: list[tuple[int, Decimal, str]] = []  # (customer id, signed amount, key)
    refused: list[str] = []
    replays = Counter()
    unexpected: list[BaseException] = []
    deadline = time.monotonic() + SECONDS

    def worker(number: int) -> None:
        rng = random.Random(number)
        debited: list[tuple[int, str, Decimal]] = []  # orders this thread paid for
        done: list[tuple] = []  # (callable, kwargs, entry id) for replays
        n = 0
        try:
            while time.monotonic() < deadline:
                n += 1
                customer_id = rng.choice(customers).pk
                choice = rng.random()
                key = f"t{number}:{n}"
                if choice < 0.3:
                    call, kwargs = (
                        wallet_recharge,
                        {
                            "customer_id": customer_id,
                            "amount": _cents(rng, 1, 60),
                            "created_by": None,
                            "idempotency_key": key,
                        },
                    )
                elif choice < 0.55:
                    call, kwargs = (
                        wallet_deduct,
                        {
                            "customer_id": customer_id,
                            "amount": _cents(rng, 1, 90),
                            "created_by": None,
                            "idempotency_key": key,
                            "memo": "并发扣款",
                        },
                    )
                elif choice < 0.85 or not debited:
                    key = f"N{number}x{n}"
                    call, kwargs = (
                        wallet_debit_order,
                        {
                            "customer_id": customer_id,
                            "amount": _cents(rng, 1, 90),
                            "order_number": key,
                        },
                    )
                    key = f"debit:{key}"
                elif choice < 0.95:
                    owner, order_number, paid = debited.pop(rng.randrange(len(debited)))
                    customer_id = owner
                    call, kwargs = (
                        wallet_refund_order,
                        {
                            "customer_id": owner,
                            "amount": min(paid, _cents(rng, 1, 90)),
                            "order_number": order_number,
                        },
                    )
                    key = f"refund:{order_number}"
                else:  # replay something that succeeded: must write nothing
                    if done:
                        call, kwargs, entry_id = rng.choice(done)
                        assert call(**kwargs).pk == entry_id
                        with lock:
                            replays["ok"] += 1
                    continue
                try:
                    entry = call(**kwargs)
                except InsufficientFunds:
                    with lock:
                        refused.append(key)
                    continue
                done.append((call, kwargs, entry.pk))
                if call is wallet_debit_order:
                    debited.append((customer_id, kwargs["order_number"], -entry.amount))
                with lock:
                    succeeded.append((customer_id, entry.amount, key))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            with lock:
                unexpected.append(exc)
        finally:
            connection.close()

    _run_threads(worker, THREADS)

    assert not unexpected, unexpected
    assert len(succeeded) > 100 and len(refused) > 10, (len(succeeded), len(refused))

    # wallet_audit is clean, the running balance included.
    out = StringIO()
    with translation.override("en"):
        call_command("wallet_audit", "--chain", stdout=out, stderr=StringIO())
    assert "all 3 accounts reconcile" in out.getvalue()

    # Each balance is exactly the start plus what succeeded.
    for customer in customers:
        expected = START_BALANCE + sum(
            (amount for cid, amount, _ in succeeded if cid == customer.pk), Decimal("0")
        )
        assert Account.objects.get(customer=customer).balance == expected

    # One entry per success (plus the seeds); none for a refusal; never below zero.
    assert Entry.objects.count() == len(succeeded) + len(customers)
    assert not Entry.objects.filter(idempotency_key__in=refused).exists()
    assert Entry.objects.aggregate(m=Min("balance_after"))["m"] >= 0
    retries = sum("deadlock" in r.getMessage() for r in caplog.records)
    print(
        f"\n{len(succeeded)} moved, {len(refused)} refused, {replays['ok']} replays, "
        f"{retries} deadlock retries"
    )


def test_the_same_key_submitted_at_once_moves_money_once():
    customer = make_customer()
    barrier = threading.Barrier(THREADS)
    results, conflicts, unexpected = [], [], []

    def worker(number: int) -> None:
        try:
            barrier.wait()
            # Half send the same request, half the same key with another amount.
            amount = "10.00" if number % 2 == 0 else "11.00"
            entry = wallet_recharge(
                customer_id=customer.pk, amount=amount, created_by=None, idempotency_key="dbl"
            )
            results.append((entry.pk, entry.amount))
        except IdempotencyConflict:
            conflicts.append(number)
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)
        finally:
            connection.close()

    _run_threads(worker, THREADS)
    assert not unexpected, unexpected
    assert Entry.objects.filter(idempotency_key="dbl").count() == 1
    assert len({pk for pk, _ in results}) == 1  # every success is the same entry
    assert len(results) + len(conflicts) == THREADS and len(conflicts) == THREADS // 2
    balance = Account.objects.get(customer=customer).balance
    assert balance == results[0][1]


def test_an_order_refunded_from_many_threads_is_refunded_once():
    customer = make_customer()
    wallet_recharge(customer_id=customer.pk, amount="50", created_by=None, idempotency_key="s")
    wallet_debit_order(customer_id=customer.pk, amount=Decimal("20"), order_number="R1")
    barrier = threading.Barrier(THREADS)
    outcomes, unexpected, lock = Counter(), [], threading.Lock()

    def worker(number: int) -> None:
        try:
            barrier.wait()
            wallet_refund_order(
                customer_id=customer.pk, amount=Decimal(5 + number), order_number="R1"
            )
            with lock:
                outcomes["refunded"] += 1
        except IdempotencyConflict:
            with lock:
                outcomes["conflict"] += 1
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)
        finally:
            connection.close()

    _run_threads(worker, THREADS)
    assert not unexpected, unexpected
    refunds = Entry.objects.filter(kind="refund", order_number="R1")
    assert refunds.count() == 1
    assert outcomes["refunded"] == 1 and outcomes["conflict"] == THREADS - 1
    assert Account.objects.get(customer=customer).balance == Decimal("30") + refunds.get().amount


class _RollBack(Exception):
    """Raised to roll the interfering transaction back."""


def test_a_deadlocked_service_call_is_retried_and_moves_money_once(caplog):
    """Force a real InnoDB deadlock against the service; it must retry and succeed once.

    The interferer inserts the service's idempotency key (uncommitted) plus enough rows to be
    the heavier transaction, then asks for the row lock the service holds: the service waits on
    the key, the interferer on the row, InnoDB kills the lighter one — the service.
    """
    from django.db import transaction

    caplog.set_level(logging.WARNING, logger="wallet.services")
    victim, other = make_customer(), make_customer()
    victim_account, other_account = victim.account, other.account
    key_inserted, service_started = threading.Event(), threading.Event()
    outcome: dict = {}

    def interferer(_number: int) -> None:
        try:
            with transaction.atomic():
                for i in range(30):
                    Entry.objects.create(
                        account=other_account,
                        kind="recharge",
                        amount=Decimal("1"),
                        balance_after=Decimal(i + 1),
                        idempotency_key=f"weight:{i}",
                    )
                Entry.objects.create(
                    account=other_account,
                    kind="recharge",
                    amount=Decimal("1"),
                    balance_after=Decimal("31"),
                    idempotency_key="contested",
                )
                key_inserted.set()
                service_started.wait(10)
                time.sleep(0.5)  # the service is now blocked on our uncommitted key
                Account.objects.select_for_update().get(pk=victim_account.pk)
                time.sleep(0.3)  # hold the row while the service retries, then give up
                raise _RollBack
        except _RollBack:
            outcome["interferer"] = "rolled back"
        except BaseException as exc:  # noqa: BLE001
            outcome["interferer"] = exc
        finally:
            connection.close()

    def service(_number: int) -> None:
        try:
            key_inserted.wait(10)
            service_started.set()
            outcome["entry"] = wallet_recharge(
                customer_id=victim.pk, amount="8.88", created_by=None, idempotency_key="contested"
            )
        except BaseException as exc:  # noqa: BLE001
            outcome["service"] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=interferer, args=(0,)),
        threading.Thread(target=service, args=(1,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert "service" not in outcome, outcome
    assert outcome["interferer"] == "rolled back", outcome
    assert any("deadlock" in r.getMessage() for r in caplog.records)  # it really deadlocked
    entry = Entry.objects.get(idempotency_key="contested")
    assert entry.pk == outcome["entry"].pk and entry.account_id == victim_account.pk
    assert Account.objects.get(pk=victim_account.pk).balance == Decimal("8.88")
    assert not Entry.objects.filter(account=other_account).exists()
