"""Demo wallet: top up every demo customer with a few hundred yuan, as done by the superuser.

Idempotent through the ledger's keys (``demo:recharge:<username>``): a second run replays the
first entries and moves nothing.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from customers.models import Customer
from demo.fixture import read_fixture
from wallet.services import wallet_recharge


def _demo_usernames() -> list[str] | None:
    """Usernames from fixtures/demo/customers.json, or None when there is no such fixture."""
    path = settings.BASE_DIR / "fixtures" / "demo" / "customers.json"
    if not path.exists():
        return None
    data = read_fixture("customers")
    rows = data.get("customers", []) if isinstance(data, dict) else data
    names = [
        row.get("username") or (row.get("fields") or {}).get("username")
        for row in rows
        if isinstance(row, dict)
    ]
    return [name for name in names if name] or None  # unknown layout: every customer


def load(command) -> list[str]:
    """Recharge each demo customer (or, without a customers fixture, every customer)."""
    spec = read_fixture("wallet")
    operator = get_user_model().objects.filter(username=read_fixture("superuser")["username"])
    operator = operator.first()
    customers = Customer.objects.select_related("user").order_by("pk")
    usernames = _demo_usernames()
    if usernames is not None:
        customers = customers.filter(user__username__in=usernames)
    amounts = spec["amounts"]
    count = 0
    for n, customer in enumerate(customers):
        username = customer.user.get_username()
        wallet_recharge(
            customer_id=customer.pk,
            amount=spec["by_username"].get(username, amounts[n % len(amounts)]),
            created_by=operator,
            idempotency_key=f"demo:recharge:{username}",
            memo=spec["memo"],
        )
        count += 1
    if not count:
        return []
    return [
        _("Ledger: http://127.0.0.1:8000/admin/wallet/entry/  (%(n)s demo customers topped up)")
        % {"n": count}
    ]
