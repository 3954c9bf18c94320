"""Load the demo data described in fixtures/demo.json, idempotently, through the services."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


class Command(BaseCommand):
    help = _("Load the demo users and data (idempotent: running it twice changes nothing).")

    def handle(self, *args, **options):
        data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
        with transaction.atomic():
            self._superuser(data["superuser"])
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
        self.stdout.write(
            _("Admin: http://127.0.0.1:8000/admin/  user %(u)s  password %(p)s")
            % {"u": data["superuser"]["username"], "p": data["superuser"]["password"]}
        )

    def _superuser(self, spec: dict) -> None:
        """Create the demo superuser once; never reset a password someone changed."""
        User = get_user_model()
        if not User.objects.filter(username=spec["username"]).exists():
            User.objects.create_superuser(
                username=spec["username"], email=spec.get("email", ""), password=spec["password"]
            )
