"""wallet 0003: whoever could recharge or deduct through the old customers permissions still can."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from customers.models import Customer
from customers.tests.conftest import fresh
from customers.tests.factories import StaffFactory
from wallet import permissions

pytestmark = pytest.mark.django_db

migration = importlib.import_module("wallet.migrations.0003_account_money_permissions")
EDITOR = SimpleNamespace(connection=connection)


def _old(codename: str) -> Permission:
    content_type = ContentType.objects.get_for_model(Customer)
    return Permission.objects.create(content_type=content_type, codename=codename, name=codename)


def test_holders_of_the_old_permissions_get_the_new_ones_and_the_old_ones_go():
    recharge, deduct = _old("recharge_balance"), _old("deduct_balance")
    cashiers = Group.objects.create(name="出纳")
    cashiers.permissions.add(recharge, deduct)
    in_group = StaffFactory(username="in_group")
    in_group.groups.add(cashiers)
    direct = StaffFactory(username="direct")
    direct.user_permissions.add(recharge)
    nobody = StaffFactory(username="nobody")

    migration.forwards(apps, EDITOR)

    assert fresh(in_group).has_perms([permissions.RECHARGE, permissions.DEDUCT])
    assert fresh(direct).has_perm(permissions.RECHARGE)
    assert not fresh(direct).has_perm(permissions.DEDUCT)
    assert not fresh(nobody).has_perm(permissions.RECHARGE)
    assert not Permission.objects.filter(codename__in=["recharge_balance", "deduct_balance"])

    migration.backwards(apps, EDITOR)

    assert fresh(direct).has_perm("customers.recharge_balance")
    assert fresh(in_group).has_perms(["customers.recharge_balance", "customers.deduct_balance"])
    assert not Permission.objects.filter(codename__in=["recharge_account", "deduct_account"])


def test_a_fresh_database_has_nothing_to_move():
    before = Permission.objects.count()
    migration.forwards(apps, EDITOR)
    assert Permission.objects.count() == before
    assert Permission.objects.filter(codename="recharge_account").exists()
