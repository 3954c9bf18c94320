"""sync_roles: exactly the four groups, exactly their permissions, idempotent, readable errors."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from backoffice import roles
from backoffice.roles import ROLES, Role, sync_roles

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrate_applies_the_roles():
    Group.objects.filter(name__in=[role.name for role in ROLES]).delete()
    call_command("migrate", verbosity=0)  # nothing to apply; post_migrate still runs
    names = set(Group.objects.values_list("name", flat=True))
    assert names >= {"管理员", "财务", "客户经理", "客服"}
    assert "customers.import_customer" in perms("管理员")


def test_sync_is_idempotent_and_restores_drift(capsys):
    call_command("sync_roles")
    first = {role.name: perms(role.name) for role in ROLES}
    finance = Group.objects.get(name="财务")
    finance.permissions.add(Permission.objects.get(codename="delete_customer"))
    call_command("sync_roles")
    assert {role.name: perms(role.name) for role in ROLES} == first
    assert "管理员" in capsys.readouterr().out


# Account managers and support answer "did my callback arrive?" and may send one again.
WEBHOOK_READERS = {
    "notifications.view_webhookendpoint",
    "notifications.view_outboxevent",
    "notifications.view_delivery",
    "notifications.view_deliveryattempt",
    "notifications.resend_delivery",
    "api.view_apikey",  # and revoke a leaked key at once
    "api.change_apikey",
}


def test_role_permissions_are_exactly_the_issue_s():
    sync_roles()
    business = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(
            content_type__app_label__in=["customers", "wallet", "orders", "notifications", "api"]
        ).select_related("content_type")
    }
    assert perms("管理员") == business | {"auth.view_user"}
    for codename in (
        "wallet.recharge_account",
        "wallet.deduct_account",
        "customers.import_customer",
        "customers.export_customer",
        "customers.manage_all_customers",
        "wallet.export_entry",
        "orders.cancel_order",
        "orders.place_order",
        "orders.run_order",
        "orders.export_order",
    ):
        assert codename in perms("管理员")
    assert perms("客户经理") == {
        "customers.add_customer",
        "customers.view_level",
        "orders.view_order",
        "orders.place_order",
        "orders.view_service",
        "orders.view_pricetier",
        *WEBHOOK_READERS,
    }
    assert WEBHOOK_READERS <= perms("客服")
    assert "customers.view_customer" not in perms("客户经理")  # object permissions only
    assert not {"wallet.recharge_account", "wallet.deduct_account"} & perms("客服")
    assert {"wallet.recharge_account", "wallet.deduct_account"} <= perms("财务")
    assert "customers.import_customer" not in perms("财务")


def test_a_missing_codename_fails_with_one_readable_line(monkeypatch):
    broken = (*ROLES, Role("测试", "test", ("orders.fly_order", "customers.view_customer")))
    monkeypatch.setattr(roles, "ROLES", broken)
    with pytest.raises(CommandError) as excinfo:
        call_command("sync_roles")
    message = str(excinfo.value)
    assert "orders.fly_order" in message and "测试" in message
    assert "\n" not in message
    assert not Group.objects.filter(name="测试").exists()
