"""Staff roles: Django groups defined here, applied by ``python manage.py sync_roles``.

Roles span every business app, so they live in ``backoffice`` above the apps (DESIGN.md:
dependencies point one way; ``customers`` names nobody above it). A role's permissions are
*set*, not added to: running sync twice changes nothing, and a permission removed here is
removed from the group.
"""

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from wallet import permissions as wallet_permissions

ADMINISTRATOR = "管理员"
FINANCE = "财务"
ACCOUNT_MANAGER = "客户经理"
SUPPORT = "客服"

# Every permission of these apps belongs to administrators.
BUSINESS_APPS = ("customers", "wallet", "orders", "notifications", "api")

MISSING_PERMISSIONS = _(
    "Role %(role)s names permissions that do not exist: %(missing)s. "
    "Is the app installed and migrated?"
)


class RoleError(DomainError):
    """A role names a permission that does not exist."""


@dataclass(frozen=True)
class Role:
    """A staff role: the group name, a one-line description, and its permissions."""

    name: str
    description: str
    permissions: tuple[str, ...]
    all_of_apps: tuple[str, ...] = ()


ROLES: tuple[Role, ...] = (
    Role(
        ADMINISTRATOR,
        "everything in the business apps",
        ("auth.view_user",),
        all_of_apps=BUSINESS_APPS,
    ),
    Role(
        FINANCE,
        "views customers, recharges and deducts balances, views and exports ledger and orders, "
        "approves top-up requests",
        (
            "customers.view_customer",
            "customers.view_level",
            wallet_permissions.RECHARGE,
            wallet_permissions.DEDUCT,
            "customers.export_customer",
            "wallet.view_account",
            "wallet.view_entry",
            "wallet.export_entry",
            "wallet.view_topuprequest",
            "wallet.approve_topuprequest",
            "orders.view_order",
            "orders.view_orderevent",
            "orders.export_order",
            "orders.view_service",
            "orders.view_pricetier",
            "orders.view_agent",
        ),
    ),
    Role(
        ACCOUNT_MANAGER,
        "creates customers and sees and changes only their own (object permissions)",
        (
            "customers.add_customer",
            "customers.view_level",
            "orders.view_order",
            "orders.place_order",
            "orders.view_service",
            "orders.view_pricetier",
            "notifications.view_webhookendpoint",
            "notifications.view_outboxevent",
            "notifications.view_delivery",
            "notifications.view_deliveryattempt",
            "notifications.resend_delivery",
            "api.view_apikey",
            "api.change_apikey",
        ),
    ),
    Role(
        SUPPORT,
        "views customers and orders, cancels pending orders; no money actions",
        (
            "customers.view_customer",
            "customers.view_level",
            "orders.view_order",
            "orders.view_orderevent",
            "orders.cancel_order",
            "orders.view_service",
            "orders.view_pricetier",
            "orders.view_agent",
            "notifications.view_webhookendpoint",
            "notifications.view_outboxevent",
            "notifications.view_delivery",
            "notifications.view_deliveryattempt",
            "notifications.resend_delivery",
            "api.view_apikey",
            "api.change_apikey",
        ),
    ),
)
ROLE_NAMES = tuple(role.name for role in ROLES)


def ensure_permissions(*, using: str = DEFAULT_DB_ALIAS, apps=global_apps) -> None:
    """Create every installed app's permissions now (Django otherwise waits for post_migrate)."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)


def _permissions_by_name(using: str) -> dict[str, Permission]:
    rows = Permission.objects.using(using).select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": p for p in rows}


def role_permissions(role: Role, available: dict[str, Permission]) -> list[Permission]:
    """The permissions of one role, or RoleError naming every codename that does not exist."""
    missing = [name for name in role.permissions if name not in available]
    if missing:
        raise RoleError(MISSING_PERMISSIONS, role=role.name, missing=", ".join(missing))
    chosen = {name: available[name] for name in role.permissions}
    for name, permission in available.items():
        if name.split(".", 1)[0] in role.all_of_apps:
            chosen[name] = permission
    return sorted(chosen.values(), key=lambda p: p.pk)


def sync_roles(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create the role groups and set each one's permissions exactly; {role: permission count}."""
    ensure_permissions(using=using)
    available = _permissions_by_name(using)
    plan = {role.name: role_permissions(role, available) for role in ROLES}
    with transaction.atomic(using=using):
        for name, permissions in plan.items():
            group, _created = Group.objects.using(using).get_or_create(name=name)
            group.permissions.set(permissions)
    return {name: len(permissions) for name, permissions in plan.items()}
