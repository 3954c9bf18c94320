"""充值/扣款 name the payment (method and reference); one payment is entered once.

The (method, reference) pair is UNIQUE in the database, so this holds under concurrency
too (the MariaDB test below races two identical references on two real connections).
"""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.tests.factories import make_customer
from wallet.exceptions import (
    REFERENCE_NEEDS_METHOD,
    DuplicatePaymentReference,
    IdempotencyConflict,
    InvalidPayment,
)
from wallet.models import Entry
from wallet.selectors import balance_of
from wallet.services import wallet_deduct, wallet_recharge

pytestmark = pytest.mark.django_db


def _recharge(customer, key, amount="100", method="bank_transfer", reference="TX-001"):
    return wallet_recharge(
        customer_id=customer.pk,
        amount=amount,
        created_by=None,
        idempotency_key=key,
        payment_method=method,
        payment_reference=reference,
    )


def test_a_recharge_stores_its_method_and_reference():
    customer = make_customer()
    entry = _recharge(customer, "k1", reference=" tx 2024-0101 ab ")
    entry.refresh_from_db()
    assert (entry.payment_method, entry.payment_reference) == ("bank_transfer", "TX2024-0101AB")
    assert entry.replayed is False


def test_the_same_reference_for_the_same_method_is_refused_naming_the_earlier_entry():
    first, second = make_customer(name="甲"), make_customer(name="乙")
    earlier = _recharge(first, "k1")
    with pytest.raises(DuplicatePaymentReference) as refused:
        _recharge(second, "k2", amount="50")
    message = refused.value.message
    assert "TX-001" in message and "甲" in message
    assert timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M") in message
    assert str(earlier.pk) in message
    assert Entry.objects.count() == 1
    assert balance_of(customer_id=second.pk) == Decimal("0.00")


def test_the_same_reference_typed_differently_is_the_same_payment():
    customer = make_customer()
    _recharge(customer, "k1", reference="tx-001")
    with pytest.raises(DuplicatePaymentReference):
        _recharge(customer, "k2", reference=" TX - 001 ")
    assert balance_of(customer_id=customer.pk) == Decimal("100.00")


def test_the_same_reference_for_another_method_is_another_payment():
    customer = make_customer()
    _recharge(customer, "k1", method="bank_transfer")
    _recharge(customer, "k2", method="alipay")
    assert balance_of(customer_id=customer.pk) == Decimal("200.00")


def test_recharges_without_a_reference_never_collide():
    customer = make_customer()
    for n, reference in enumerate(["", None, "   "]):
        _recharge(customer, f"k{n}", method="cash", reference=reference)
    assert Entry.objects.filter(payment_reference__isnull=True).count() == 3


def test_a_replayed_form_replays_instead_of_refusing_its_own_reference():
    customer = make_customer()
    first = _recharge(customer, "k1")
    again = _recharge(customer, "k1")
    assert again.pk == first.pk and again.replayed is True
    with pytest.raises(IdempotencyConflict):  # the same key with another payment
        _recharge(customer, "k1", reference="TX-002")
    assert Entry.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "reference"),
    [("", "TX-9"), ("paypal", "TX-9"), ("bank_transfer", "X" * 65)],
)
def test_bad_payments_are_refused_and_write_nothing(method, reference):
    customer = make_customer()
    with pytest.raises(InvalidPayment):
        _recharge(customer, "k1", method=method, reference=reference)
    assert Entry.objects.count() == 0


def test_a_reference_without_a_method_names_the_problem():
    customer = make_customer()
    with pytest.raises(InvalidPayment) as refused:
        _recharge(customer, "k1", method="", reference="TX-9")
    assert refused.value.message == str(REFERENCE_NEEDS_METHOD)


def test_a_deduction_may_name_its_payout_and_shares_the_rule():
    customer = make_customer()
    _recharge(customer, "k1", amount="100")
    wallet_deduct(
        customer_id=customer.pk,
        amount="30",
        created_by=None,
        idempotency_key="d1",
        memo="退款给客户",
        payment_method="alipay",
        payment_reference="PAYOUT-1",
    )
    with pytest.raises(DuplicatePaymentReference):
        wallet_deduct(
            customer_id=customer.pk,
            amount="30",
            created_by=None,
            idempotency_key="d2",
            memo="退款给客户",
            payment_method="alipay",
            payment_reference="PAYOUT-1",
        )
    assert balance_of(customer_id=customer.pk) == Decimal("70.00")


def test_the_database_itself_refuses_a_duplicate_reference():
    """Not only the service: the UNIQUE constraint (and the CHECK on an empty reference)."""
    customer = make_customer()
    entry = _recharge(customer, "k1")
    common = {
        "account": entry.account,
        "kind": Entry.Kind.RECHARGE,
        "amount": Decimal("1"),
        "balance_after": Decimal("101"),
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            **common,
            idempotency_key="raw1",
            payment_method="bank_transfer",
            payment_reference="TX-001",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            **common, idempotency_key="raw2", payment_method="bank_transfer", payment_reference=""
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(**common, idempotency_key="raw3", payment_reference="TX-003")


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_customer", [False, True])
def test_two_identical_references_racing_enter_once(same_customer):
    """Two connections submit the same transfer at the same instant: one wins, one is told."""
    assert connection.vendor in ("mysql", "postgresql")
    customers = [make_customer(), make_customer()]
    if same_customer:
        customers[1] = customers[0]
    rounds = 5
    outcomes: dict[int, list[object]] = {r: [] for r in range(rounds)}
    lock = threading.Lock()

    def submit(round_: int, n: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=10)
            reference = f"RACE-{round_}"
            result = _recharge(customers[n], f"race{round_}:{n}", reference=reference)
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test checks)
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes[round_].append(result)

    for round_ in range(rounds):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=submit, args=(round_, n, barrier)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a submit hung"
    for round_, results in outcomes.items():
        written = [o for o in results if isinstance(o, Entry)]
        refused = [o for o in results if isinstance(o, DuplicatePaymentReference)]
        assert (len(written), len(refused)) == (1, 1), results
        assert Entry.objects.filter(payment_reference=f"RACE-{round_}").count() == 1
    total = sum(balance_of(customer_id=pk) for pk in {c.pk for c in customers})
    assert total == Decimal("100.00") * rounds
