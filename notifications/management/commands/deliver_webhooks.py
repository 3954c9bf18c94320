"""Send the webhook deliveries that are due now, and exit (for agents run from cron).

A long-running ``run_agent`` sends them on its side-task thread and prunes old events hourly;
``run_agent --once`` does neither, so a cron-only deployment adds this command beside it.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy as _

from notifications.delivery import deliver_due
from notifications.services import events_prune

ATTEMPTED = _("Webhook deliveries attempted: %(count)d.")
PRUNED = _("Finished events past their retention deleted: %(count)d.")


class Command(BaseCommand):
    help = (
        "Send the webhook deliveries that are due now, delete finished events older than "
        "WEBHOOKS_RETENTION_DAYS, then exit."
    )

    def handle(self, *args, **options):
        total = 0
        while sent := deliver_due(agent="deliver_webhooks"):
            total += sent
        self.stdout.write(ATTEMPTED % {"count": total})
        self.stdout.write(PRUNED % {"count": events_prune()})
