"""The transition table: every pair of statuses, and one writer of an order's status."""

import ast
import itertools
from pathlib import Path

import pytest
from django.conf import settings

from orders.exceptions import InvalidTransition, OrderStateChanged
from orders.models import Order, OrderEvent
from orders.services import order_transition
from orders.tests.test_agent_support import funded_customer, place
from wallet.models import Entry

pytestmark = pytest.mark.django_db
Status = Order.Status

# Written out here (not read from Order.TRANSITIONS) so that a change to the table fails this
# test until someone decides it on purpose.
ALLOWED = {
    ("pending", "running"),  # an agent claims it
    ("pending", "cancelled"),  # 撤单
    ("pending", "failed"),  # gave up: no attempts left when it came due again
    ("running", "running"),  # lease taken over from a dead agent; the supplier accepted it
    ("running", "completed"),
    ("running", "partial"),
    ("running", "failed"),
    ("running", "pending"),  # released: shutdown or supplier unreachable
}


def test_the_table_is_exactly_the_allowed_moves():
    table = {(a, b) for a, targets in Order.TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(Order.TRANSITIONS) == set(Status.values)
    for status in Order.TERMINAL:
        assert not Order.TRANSITIONS[status]


@pytest.fixture
def order():
    return place(funded_customer(balance="100.00"), quantity=5)


@pytest.mark.parametrize(
    ("from_status", "to_status"), list(itertools.product(Status.values, repeat=2))
)
def test_every_pair_of_statuses(order, from_status, to_status):
    Order.objects.filter(pk=order.pk).update(status=from_status)  # test set-up only
    order.refresh_from_db()
    events = OrderEvent.objects.filter(order=order).count()
    entries = Entry.objects.count()

    if (from_status, to_status) in ALLOWED:
        moved = order_transition(
            order=order, expected=from_status, to_status=to_status, agent="t", message="m"
        )
        assert moved.status == to_status
        event = OrderEvent.objects.filter(order=order).last()
        assert (event.from_status, event.to_status, event.agent) == (from_status, to_status, "t")
        assert OrderEvent.objects.filter(order=order).count() == events + 1
    else:
        with pytest.raises(InvalidTransition):
            order_transition(order=order, expected=from_status, to_status=to_status)
        order.refresh_from_db()
        assert order.status == from_status
        assert OrderEvent.objects.filter(order=order).count() == events
    assert Entry.objects.count() == entries  # the bare transition never moves money


def test_an_allowed_move_from_a_status_the_order_has_left_writes_nothing(order):
    with pytest.raises(OrderStateChanged):
        order_transition(order=order, expected=Status.RUNNING, to_status=Status.COMPLETED)
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert OrderEvent.objects.filter(order=order).count() == 1  # the placement only


# -- one writer ------------------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
# The one-order services and their multi-order counterparts (the agent's batches).
WRITERS = {ROOT / "orders" / "services.py", ROOT / "orders" / "batch.py"}
SKIPPED_DIRS = {".venv", "tests", "migrations", "bench", "node_modules", ".git", "var"}


def _source_files():
    for path in ROOT.rglob("*.py"):
        if SKIPPED_DIRS.isdisjoint(path.relative_to(ROOT).parts) and path not in WRITERS:
            yield path


def _chain_names(node) -> set[str]:
    """Every name and attribute along ``a.b(...).c(...)`` (the receiver of a call)."""
    names = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.add(node.id)
            return names
        else:
            return names


def order_writes(paths) -> list[str]:
    """``Order.objects….update(…)`` / ``bulk_update`` and ``order.save(…)`` in these files."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method, receiver = node.func.attr, _chain_names(node.func.value)
            writes_orders = method in ("update", "bulk_update") and "Order" in receiver
            saves_an_order = method == "save" and receiver & {"order", "orders"}
            if writes_orders or saves_an_order:
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_orders_are_written_only_by_the_order_services():
    assert order_writes(_source_files()) == []


def test_the_writer_check_finds_direct_writes(tmp_path):
    """The check above can fail: a module writing an order directly is reported."""
    bad = tmp_path / "direct.py"
    bad.write_text(
        "from orders.models import Order\n"
        "def f(order):\n"
        "    Order.objects.using('default').filter(pk=1).update(status='failed')\n"
        "    order.save(update_fields=['status'])\n"
        "    Order.objects.filter(pk=1).values('pk')\n"
    )
    assert order_writes([bad]) == ["direct.py:3", "direct.py:4"]
