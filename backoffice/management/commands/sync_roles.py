"""python manage.py sync_roles: create the staff role groups and set their permissions."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from backoffice.roles import ROLES, RoleError, sync_roles


class Command(BaseCommand):
    help = _(
        "Create the staff roles (管理员, 财务, 客户经理, 客服) as groups and set each one's "
        "permissions to exactly what backoffice/roles.py defines. Safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help=_("Database alias."))

    def handle(self, *args, **options):
        try:
            counts = sync_roles(using=options["database"])
        except RoleError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] > 1:
            for role in ROLES:
                line = _("%(role)s: %(count)d permissions (%(description)s)") % {
                    "role": role.name,
                    "count": counts[role.name],
                    "description": role.description,
                }
                self.stdout.write(line)
        if options["verbosity"] > 0:
            summary = _("Roles synchronised: %(roles)s.") % {"roles": "、".join(counts)}
            self.stdout.write(self.style.SUCCESS(summary))
