"""Recharge and deduct become the wallet's own permissions (``Account.Meta``).

They used to sit on ``Customer.Meta`` (``customers.recharge_balance`` / ``deduct_balance``),
which made the lowest app name a higher app's rights. Every group and user holding an old
permission is given the new one, then the old rows are deleted, so nobody's rights change.
Runs after customers 0005, which drops the old ones from ``Customer.Meta``.
"""

from django.db import migrations

# (old customers codename, new wallet codename, name)
MOVES = [
    ("recharge_balance", "recharge_account", "Can recharge customer balances"),
    ("deduct_balance", "deduct_account", "Can deduct customer balances"),
]


def _permission(apps, app_label, model, codename, name, *, create, using):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    if create:
        content_type, _created = ContentType.objects.using(using).get_or_create(
            app_label=app_label, model=model
        )
        permission, _created = Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        return permission
    return (
        Permission.objects.using(using)
        .filter(content_type__app_label=app_label, content_type__model=model, codename=codename)
        .first()
    )


def _move(apps, schema_editor, source, target):
    """Give every holder of ``source`` (app, model) permissions the ``target`` ones; drop source."""
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    for old_codename, new_codename, name in MOVES:
        codenames = {"customers": old_codename, "wallet": new_codename}
        old = _permission(apps, *source, codenames[source[0]], name, create=False, using=using)
        if old is None:  # a fresh database: post_migrate creates the new permissions
            continue
        new = _permission(apps, *target, codenames[target[0]], name, create=True, using=using)
        for group in Group.objects.using(using).filter(permissions=old):
            group.permissions.add(new)
        for user in User.objects.using(using).filter(user_permissions=old):
            user.user_permissions.add(new)
        old.delete()


def forwards(apps, schema_editor):
    _move(apps, schema_editor, ("customers", "customer"), ("wallet", "account"))


def backwards(apps, schema_editor):
    _move(apps, schema_editor, ("wallet", "account"), ("customers", "customer"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0005_remove_balance_permissions"),
        ("wallet", "0002_entry_base_manager"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="account",
            options={
                "permissions": [
                    ("recharge_account", "Can recharge customer balances"),
                    ("deduct_account", "Can deduct customer balances"),
                ],
                "verbose_name": "account",
                "verbose_name_plural": "accounts",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
