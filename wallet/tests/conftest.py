"""Fixtures for the wallet tests: the staff roles and a user of each."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from customers.tests.factories import StaffFactory

# Used only until customers.roles (python manage.py sync_roles) exists: what the issue says each
# role may do with money. Finance and administrators move money; nobody else does.
FALLBACK_ROLES = {
    "管理员": [
        "customers.view_customer",
        "customers.change_customer",
        "customers.recharge_balance",
        "customers.deduct_balance",
        "wallet.view_entry",
        "wallet.export_entry",
    ],
    "财务": [
        "customers.view_customer",
        "customers.recharge_balance",
        "customers.deduct_balance",
        "wallet.view_entry",
        "wallet.export_entry",
    ],
    "客户经理": [],  # object permissions on their own customers only (customers.services)
    "客服": ["customers.view_customer", "wallet.view_entry"],
}


def perms_of(user) -> set[str]:
    """The user's permissions, fresh from the database."""
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user.get_all_permissions()


@pytest.fixture
def roles(db):
    """The four staff groups, from sync_roles when it exists."""
    try:
        call_command("sync_roles", verbosity=0)
    except CommandError:
        for name, perms in FALLBACK_ROLES.items():
            group, _ = Group.objects.get_or_create(name=name)
            for perm in perms:
                app_label, codename = perm.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )


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
