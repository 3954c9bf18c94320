"""``manage.py dashboard_verify``: recount the dashboard's figures row by row and compare."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from backoffice.verify import dashboard_differences


class Command(BaseCommand):
    help = _(
        "Recompute the admin dashboard's figures from the orders and the ledger, row by row, "
        "and report every one that disagrees (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help=_("Check the dashboard as this staff user sees it (default: the whole business)."),
        )

    def handle(self, *args, **options):
        User = get_user_model()
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_staff=True).first()
            if user is None:
                raise CommandError(_("No staff user named %(name)s.") % {"name": options["user"]})
        else:  # an unsaved superuser: sees everything, changes nothing
            user = User(username="dashboard_verify", is_staff=True, is_superuser=True)
        problems = dashboard_differences(user)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(
                _("%(n)d dashboard figure(s) disagree with the tables.") % {"n": len(problems)}
            )
        self.stdout.write(self.style.SUCCESS(_("Every dashboard figure agrees with the tables.")))
