"""Tiered pricing (the seed's PricePolicy) and the level discount."""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save

from core.cache import shortcut
from orders.exceptions import (
    QUANTITY_NOT_AN_INTEGER,
    QUANTITY_OUT_OF_RANGE,
    SERVICE_HAS_NO_PRICES,
    SERVICE_UNAVAILABLE,
    TARGET_INVALID_PATTERN,
    TARGET_INVALID_URL,
    TARGET_REQUIRED,
    InvalidQuantity,
    InvalidTarget,
    ServiceUnavailable,
)
from orders.models import PriceTier, Service
from wallet.money import quantize_money

logger = logging.getLogger(__name__)

MAX_QUANTITY_DIGITS = 12
# Optional ASCII spaces around ASCII digits, nothing else: [0-9], not \d or isdecimal(), which
# accept full-width "１００" and other scripts' digits; no sign, point, separator or exponent.
_TYPED_QUANTITY = re.compile(rf" *[0-9]{{1,{MAX_QUANTITY_DIGITS}}} *")


@dataclass(frozen=True)
class Quote:
    """What an order of ``quantity`` costs a customer, and why."""

    service_id: int
    quantity: int
    tier_quantity: int
    tier_price: Decimal
    unit_price: Decimal  # tier price / tier quantity, unrounded (6 places kept on the order)
    list_price: Decimal  # unit price × quantity, to 0.01 half up
    level_percent: int
    amount: Decimal  # list price × level percent / 100, to 0.01 half up

    @property
    def discount(self) -> Decimal:
        """What the level saves against the list price."""
        return self.list_price - self.amount


def parse_quantity(value) -> int:
    """A whole number: ``10`` from code, or text that is only ASCII digits with optional spaces
    around (the same strictness as ``wallet.money.parse_amount``); refuses ``1.5``, ``-3``,
    ``1e3``, ``1,000``, ``１００``, ``abc``, booleans and floats.
    """
    if isinstance(value, bool):
        raise InvalidQuantity(QUANTITY_NOT_AN_INTEGER)
    if isinstance(value, int):
        return value
    if not (isinstance(value, str) and _TYPED_QUANTITY.fullmatch(value)):
        raise InvalidQuantity(QUANTITY_NOT_AN_INTEGER)
    return int(value)


def quantity_range(service: Service, tiers: list[PriceTier]) -> tuple[int, int]:
    """The smallest and largest quantity the service sells."""
    return max(service.min_quantity, tiers[0].quantity), service.max_quantity


def price(
    *, service: Service, quantity, level_percent: int, tiers: Sequence[PriceTier] | None = None
) -> Quote:
    """Price ``quantity`` units: largest tier ≤ quantity, then the level's share, half up.

    ``tiers`` are the service's tiers when the caller read them (``order_place`` reads the
    service and its tiers in one joined query); else ``service.tiers.all()``.
    """
    if not service.is_active:
        raise ServiceUnavailable(SERVICE_UNAVAILABLE)
    quantity = parse_quantity(quantity)
    tiers = sorted(service.tiers.all() if tiers is None else tiers, key=lambda t: t.quantity)
    if not tiers:
        raise ServiceUnavailable(SERVICE_HAS_NO_PRICES)
    minimum, maximum = quantity_range(service, tiers)
    if not minimum <= quantity <= maximum:
        raise InvalidQuantity(QUANTITY_OUT_OF_RANGE, minimum=minimum, maximum=maximum)
    tier = [t for t in tiers if t.quantity <= quantity][-1]
    unit_price = tier.price / Decimal(tier.quantity)
    list_price = quantize_money(unit_price * quantity)
    amount = quantize_money(list_price * Decimal(level_percent) / Decimal(100))
    return Quote(
        service_id=service.pk,
        quantity=quantity,
        tier_quantity=tier.quantity,
        tier_price=tier.price,
        unit_price=unit_price.quantize(Decimal("0.000001")),
        list_price=list_price,
        level_percent=level_percent,
        amount=amount,
    )


_url_validator = URLValidator(schemes=["http", "https"])


def validate_target(*, service: Service, target: str) -> str:
    """The trimmed target, or InvalidTarget saying what the service expects."""
    target = (target or "").strip()
    if not target:
        raise InvalidTarget(TARGET_REQUIRED)
    if service.target_kind == Service.TargetKind.URL:
        try:
            _url_validator(target)
        except ValidationError as exc:
            raise InvalidTarget(TARGET_INVALID_URL) from exc
    elif service.target_pattern and not re.fullmatch(service.target_pattern, target):
        raise InvalidTarget(TARGET_INVALID_PATTERN)
    return target


# --- the catalogue: active services and their tiers, cached for forms and pages ----------------
#
# Forms and pages (the portal's order form, its confirmation, the live quote) read the services
# from here instead of the database on every request. The cache is for showing and validating
# only: ``order_place`` reads the service and its tiers fresh under the account lock and refuses
# an amount it did not compute (PriceChanged), so a stale catalogue can never set a price. Any
# save or delete of a service or tier drops it (now and again when the transaction commits); a
# queryset ``update()`` sends no signal, which CATALOG_TTL bounds.

CATALOG_KEY = "orders:catalog:v1"
CATALOG_TTL = 60


def services_catalog() -> list[Service]:
    """The services customers may order now, in display order, each with its tiers loaded."""
    services = shortcut("get", CATALOG_KEY)
    if services is None:
        # From the primary: a lagging replica's rows would otherwise be cached past the lag.
        services = list(
            Service.objects.using("default")
            .filter(is_active=True)
            .prefetch_related(Prefetch("tiers", queryset=PriceTier.objects.order_by("quantity")))
        )
        shortcut("set", CATALOG_KEY, services, CATALOG_TTL)
    return services


def catalog_service(pk) -> Service | None:
    """One active service from the catalogue by primary key (text or int), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return next((s for s in services_catalog() if s.pk == pk), None)


def catalog_invalidate(**kwargs) -> None:
    """Drop the catalogue now and once more after the surrounding transaction commits (a reader
    between the two would otherwise cache what the transaction is about to change)."""
    shortcut("delete", CATALOG_KEY)
    using = kwargs.get("using") or "default"
    transaction.on_commit(lambda: shortcut("delete", CATALOG_KEY), using=using)


for _model in (Service, PriceTier):
    post_save.connect(catalog_invalidate, sender=_model, dispatch_uid=f"catalog-save-{_model}")
    post_delete.connect(catalog_invalidate, sender=_model, dispatch_uid=f"catalog-del-{_model}")
