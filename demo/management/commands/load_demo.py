"""Load the demo data in fixtures/demo/, idempotently, through the apps' services."""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

# Each module has ``load(command) -> list[str]`` (lines naming what a person can log in with),
# and is run in this order: lower apps first, as the dependency arrow points.
LOADERS = ["demo.superuser", "demo.customers", "demo.wallet", "demo.orders"]


class Command(BaseCommand):
    help = _("Load the demo users and data (idempotent: running it twice changes nothing).")

    def handle(self, *args, **options):
        credentials: list[str] = []
        for path in LOADERS:
            module = importlib.import_module(path)
            with transaction.atomic():
                credentials += module.load(self)
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
        for line in credentials:
            self.stdout.write(line)
