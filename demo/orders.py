"""Demo orders: two services with price tiers, and a few orders for the first demo customers."""

from decimal import Decimal

from django.utils.translation import gettext as _

from core.exceptions import DomainError
from customers.models import Customer
from demo.fixture import read_fixture
from orders.models import PriceTier, Service
from orders.services import order_place

SERVICE_FIELDS = (
    "description",
    "unit_name",
    "min_quantity",
    "max_quantity",
    "target_kind",
    "target_pattern",
    "backend",
    "display_order",
)


def load(command) -> list[str]:
    """Create the services once (staff edits survive a reload); place the sample orders once."""
    spec = read_fixture("orders")
    services = {}
    for item in spec["services"]:
        service, created = Service.objects.get_or_create(
            name=item["name"], defaults={field: item[field] for field in SERVICE_FIELDS}
        )
        if created:
            for quantity, price in item["tiers"]:
                PriceTier.objects.create(service=service, quantity=quantity, price=Decimal(price))
        services[service.name] = service
    placed = 0
    customers = Customer.objects.filter(is_active=True).order_by("id")
    for customer in customers[: spec["sample_order_customers"]]:
        for n, item in enumerate(spec["sample_orders"]):
            try:
                order_place(
                    customer=customer,
                    service=services[item["service"]],
                    target=item["target"],
                    quantity=item["quantity"],
                    # The same key on every run: a reload finds the order instead of placing again.
                    idempotency_key=f"demo:{customer.user.username}:{n}",
                )
                placed += 1
            except DomainError as exc:  # e.g. a demo customer without enough balance
                command.stderr.write(f"demo order for {customer.user.username}: {exc}")
    return [
        _("Services: %(names)s; %(count)d demo orders.")
        % {"names": "、".join(services), "count": placed}
    ]
