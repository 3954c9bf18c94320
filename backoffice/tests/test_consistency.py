"""After random business through the services, every dashboard figure equals a row-by-row
recount of the orders table and the ledger — for every role, today and as seen on later days."""

import random
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from backoffice import selectors
from backoffice.verify import dashboard_differences
from core.exceptions import DomainError
from customers.models import Customer
from orders.models import Order

pytestmark = pytest.mark.django_db


def random_activity(activity, staff, rng: random.Random, steps: int) -> dict[str, int]:
    """Place, cancel, complete, part-deliver, fail, recharge and deduct at random."""
    customers = list(Customer.objects.all())
    done: dict[str, int] = {}
    for _ in range(steps):
        operation = rng.choice(
            [
                "place",
                "place",
                "place",
                "cancel",
                "complete",
                "partial",
                "fail",
                "recharge",
                "deduct",
            ]
        )
        customer = rng.choice(customers)
        pending = list(Order.objects.filter(status=Order.Status.PENDING).order_by("?")[:1])
        try:
            if operation == "place":
                activity.place(customer, quantity=rng.choice([1000, 2000, 10_000, 25_000]))
            elif operation == "recharge":
                activity.recharge(customer, f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}")
            elif operation == "deduct":
                activity.deduct(customer, f"{rng.randint(1, 20)}.{rng.randint(0, 99):02d}")
            elif pending:
                getattr(activity, operation)(pending[0])
            else:
                continue
        except DomainError:  # e.g. insufficient funds: nothing written, as in real life
            operation += " refused"
        done[operation] = done.get(operation, 0) + 1
    return done


def test_every_figure_agrees_with_the_tables_after_random_activity(staff, book, activity):
    # History over the last 45 days (bulk-seeded, reconciling), then today's random business.
    call_command(
        "seed_orders",
        customers=12,
        orders=400,
        managers=2,
        days=45,
        batch=100,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    done = random_activity(activity, staff, random.Random(20261202), steps=80)
    assert done.get("place", 0) > 10 and done.get("cancel", 0) and done.get("recharge", 0)

    seeded_manager = get_user_model().objects.get(username="seed_manager00")
    users = [*staff.values(), seeded_manager]
    now = timezone.now()
    for user in users:
        for moment in (now, now + timedelta(days=1), now + timedelta(days=20)):
            assert dashboard_differences(user, moment) == [], (user.username, moment)

    out = StringIO()
    call_command("dashboard_verify", stdout=out)
    assert "agrees" in out.getvalue() or "一致" in out.getvalue()
    call_command("dashboard_verify", "--user", "manager1", stdout=StringIO())


def test_dashboard_verify_reports_a_figure_that_disagrees(staff, book, activity, monkeypatch):
    activity.place(book["alice"])
    real = selectors.balance_held
    monkeypatch.setattr(selectors, "balance_held", lambda user: real(user) + 1)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("dashboard_verify", stdout=StringIO(), stderr=err)
    assert "balance_held" in err.getvalue()


def test_dashboard_verify_refuses_an_unknown_user(db):
    with pytest.raises(CommandError):
        call_command("dashboard_verify", "--user", "nobody", stdout=StringIO())
