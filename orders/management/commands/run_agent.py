"""python manage.py run_agent [--once] [--concurrency N] [--name NAME]: fulfil orders."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from config.db_router import use_primary_only
from core.exceptions import DomainError
from orders.agent.runner import Runner
from orders.agent.worker import outcome_label


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:  # also refuses nan
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    help = _(
        "Run a fulfilment agent: claim pending orders and fulfil them through their backends. "
        "Runs until SIGTERM/SIGINT (orders in flight finish first); --once drains what is due "
        "and exits, for cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help=_("Run what is due now, then exit (for cron).")
        )
        parser.add_argument(
            "--concurrency",
            type=_positive,
            default=1,
            metavar="N",
            help=_("Orders run at the same time (threads); default 1."),
        )
        parser.add_argument(
            "--name",
            default=None,
            help=_("The agent's name in the admin and on its leases; default host:pid."),
        )
        parser.add_argument(
            "--poll-interval",
            type=_positive_seconds,
            default=None,
            metavar="SECONDS",
            help=_("Seconds between database polls when no wake-up comes (AGENT_POLL_INTERVAL)."),
        )

    def handle(self, *args, **options):
        # The agent claims, locks and charges: every read of it goes to the primary.
        use_primary_only()
        verbosity = options["verbosity"]

        def report(number: str, outcome: str, detail: str) -> None:
            if verbosity >= 1:
                line = f"{number} {outcome_label(outcome)}" + (f": {detail}" if detail else "")
                self.stdout.write(line)

        runner = Runner(
            name=options["name"],
            concurrency=options["concurrency"],
            once=options["once"],
            poll_interval=options["poll_interval"],
            report=report,
        )
        if verbosity >= 1:
            mode = _("once") if options["once"] else _("until stopped")
            self.stdout.write(
                _("Agent %(name)s running %(mode)s, concurrency %(n)d.")
                % {"name": runner.name, "mode": mode, "n": runner.concurrency}
            )
        try:
            stats = runner.run()
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except KeyboardInterrupt:
            # A second signal: exit at once; another agent takes the orders when the lease ends.
            self.stdout.write(self._summary(runner, runner.stats))
            raise CommandError(
                _("Interrupted: orders in flight are left to their lease."), returncode=130
            ) from None
        self.stdout.write(self._summary(runner, stats))

    def _summary(self, runner, stats) -> str:
        return _("Agent %(name)s: %(summary)s") % {"name": runner.name, "summary": stats.summary()}
