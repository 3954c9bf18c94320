"""Fixtures for the wallet tests: the staff roles and a user of each."""

import pytest

from customers.tests.factories import StaffFactory


def perms_of(user) -> set[str]:
    """The user's permissions, fresh from the database."""
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user.get_all_permissions()


@pytest.fixture
def finance(roles):
    return StaffFactory(username="cashier", role="财务")


@pytest.fixture
def support(roles):
    return StaffFactory(username="helpdesk", role="客服")


@pytest.fixture
def manager(roles):
    return StaffFactory(username="am", role="客户经理")


@pytest.fixture
def superuser(db):
    return StaffFactory(username="root", is_superuser=True)
