"""Fixtures for the customer tests: the roles, one staff user per role, two books of customers."""

import pytest
from django.contrib.auth.models import Permission

from customers.tests.factories import LevelFactory, StaffFactory, make_customer


def grant(user, *perms: str):
    """Give a user model-wide permissions (and drop Django's permission cache)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return fresh(user)


def fresh(user):
    """The user with Django's and guardian's permission caches dropped."""
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def staff(roles):
    """One user per role, plus a superuser, keyed by role name."""
    return {
        "管理员": StaffFactory(username="admin_mgr", role="管理员"),
        "财务": StaffFactory(username="finance", role="财务"),
        "客户经理": StaffFactory(username="manager1", role="客户经理"),
        "客服": StaffFactory(username="support", role="客服"),
        "superuser": StaffFactory(username="root", is_superuser=True),
    }


@pytest.fixture
def manager2(roles):
    return StaffFactory(username="manager2", role="客户经理")


@pytest.fixture
def gold(db):
    return LevelFactory(name="黄金", discount_percent=90)


@pytest.fixture
def silver(db):
    return LevelFactory(name="白银", discount_percent=95)


@pytest.fixture
def books(staff, manager2, gold):
    """Two customers for manager1, one for manager2."""
    m1 = staff["客户经理"]
    return {
        "m1": m1,
        "m2": manager2,
        "mine": make_customer(username="alice", name="Alice", account_manager=m1, level=gold),
        "mine2": make_customer(username="amy", name="Amy", account_manager=m1, level=gold),
        "theirs": make_customer(
            username="bob", name="Bob", account_manager=manager2, level=gold, mobile="13912345678"
        ),
    }
