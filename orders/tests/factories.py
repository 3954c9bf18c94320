"""Factories for services and price tiers."""

from decimal import Decimal

import factory

from orders.models import PriceTier, Service


class ServiceFactory(factory.django.DjangoModelFactory):
    """A URL-target service; pass ``tiers=[(quantity, "price"), ...]`` (default 1→1.00, 1000→800.00)."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"服务{n}")
    unit_name = "次"
    min_quantity = 1
    max_quantity = 100_000
    target_kind = Service.TargetKind.URL
    backend = "locmem"
    is_active = True

    @factory.post_generation
    def tiers(self, create, extracted, **kwargs):
        if not create:
            return
        for quantity, price in extracted or [(1, "1.00"), (1000, "800.00")]:
            PriceTier.objects.create(service=self, quantity=quantity, price=Decimal(price))
