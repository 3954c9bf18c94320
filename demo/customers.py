"""Demo staff (one per role), levels and customers, created through the customers services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils.translation import gettext as _

from customers.models import Customer, Level
from customers.services import customer_create
from demo.fixture import read_fixture


def load(command) -> list[str]:
    """Roles first, then staff, levels and customers; what exists already is left alone."""
    call_command("sync_roles", verbosity=0)
    spec = read_fixture("customers")
    User = get_user_model()
    lines = []
    for item in spec["staff"]:
        user, created = User.objects.get_or_create(
            username=item["username"],
            defaults={"is_staff": True, "first_name": item.get("first_name", "")},
        )
        if created:  # never reset a password someone changed since
            user.set_password(item["password"])
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=item["role"]))
        lines.append(
            _("%(role)s: http://127.0.0.1:8000/admin/  %(u)s / %(p)s")
            % {"role": item["role"], "u": item["username"], "p": item["password"]}
        )
    levels = {}
    for item in spec["levels"]:
        level, _created = Level.objects.get_or_create(
            name=item["name"],
            defaults={
                "discount_percent": item["discount_percent"],
                "display_order": item["display_order"],
            },
        )
        levels[level.name] = level
    for item in spec["customers"]:
        if Customer.objects.filter(user__username=item["username"]).exists():
            continue
        customer_create(
            username=item["username"],
            name=item["name"],
            mobile=item["mobile"],
            level=levels[item["level"]],
            account_manager=User.objects.get(username=item["account_manager"]),
            password=spec["customer_password"],
            notes=item.get("notes", ""),
        )
    first = spec["customers"][0]
    lines.append(
        _("Customer portal: http://127.0.0.1:8000/portal/  %(u)s / %(p)s (mobile %(m)s)")
        % {"u": first["username"], "p": spec["customer_password"], "m": first["mobile"]}
    )
    return lines
