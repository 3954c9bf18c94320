"""Fixtures for the order tests: roles, funded customers, a priced service."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import translation

from customers.tests.factories import LevelFactory, StaffFactory, make_customer
from orders.tests.factories import ServiceFactory
from wallet.services import wallet_recharge


@pytest.fixture(autouse=True)
def _default_language():
    """Start every test in the default language: a request with an English cookie in an earlier
    test (LocaleMiddleware) leaves English active in the thread, and expected messages differ."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def grant(user, *perms: str):
    """Give a user model-wide permissions (and drop Django's permission cache)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


@pytest.fixture
def admin_user(db):
    return StaffFactory(username="root", is_superuser=True)


def funded_customer(*, percent: int = 100, balance: str = "1000.00", **kwargs):
    """A customer at a level paying ``percent`` % with ``balance`` on the account."""
    customer = make_customer(level=LevelFactory(discount_percent=percent), **kwargs)
    if Decimal(balance) > 0:
        wallet_recharge(
            customer_id=customer.pk,
            amount=balance,
            created_by=None,
            idempotency_key=f"seed:{customer.pk}",
        )
    return customer


@pytest.fixture
def video_service(db):
    """The demo's URL service: 1000 → 8.00, 10000 → 70.00, 100000 → 600.00."""
    return ServiceFactory(
        name="视频播放量",
        min_quantity=1000,
        max_quantity=1_000_000,
        tiers=[(1000, "8.00"), (10_000, "70.00"), (100_000, "600.00")],
    )
