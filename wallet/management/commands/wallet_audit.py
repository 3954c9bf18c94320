"""``manage.py wallet_audit``: prove every balance equals its ledger; exit 1 listing drifts."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.models import Customer
from wallet.audit import audit_chain, audit_drifts, audit_orphan_entries, audit_totals


class Command(BaseCommand):
    help = _(
        "Check that every account's balance equals the sum of its ledger entries and its last "
        "entry's balance after, and that no balance is negative. Exits 1 when any drift."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chain",
            action="store_true",
            help=_("Also check every entry continues its account's running balance (slower)."),
        )

    def handle(self, *args, **options):
        progress = self.stderr if options["verbosity"] >= 1 else None

        def step(text: str) -> None:
            if progress is not None:
                progress.write(text)

        step(_("Counting accounts and entries…"))
        totals = audit_totals()
        step(_("Comparing balances with their ledgers…"))
        drifts = audit_drifts()
        orphans = audit_orphan_entries()
        broken = []
        if options["chain"]:
            step(_("Walking every account's running balance…"))
            broken = audit_chain()

        names = {
            c.pk: str(c)
            for c in Customer.objects.filter(
                pk__in=[d.customer_id for d in drifts[:1000]]
            ).select_related("user")
        }
        for drift in drifts:
            self.stdout.write(
                _(
                    "DRIFT account %(account)s (customer %(customer)s): balance %(balance)s, "
                    "sum of entries %(sum)s, last balance after %(last)s — %(problems)s"
                )
                % {
                    "account": drift.account_id,
                    "customer": names.get(drift.customer_id, drift.customer_id),
                    "balance": drift.balance,
                    "sum": drift.entries_sum,
                    "last": "-" if drift.last_balance_after is None else drift.last_balance_after,
                    "problems": ", ".join(drift.problems),
                }
            )
        for link in broken:
            self.stdout.write(
                _(
                    "BROKEN CHAIN entry %(entry)s (account %(account)s): balance after "
                    "%(actual)s, expected %(expected)s"
                )
                % {
                    "entry": link.entry_id,
                    "account": link.account_id,
                    "actual": link.balance_after,
                    "expected": link.expected,
                }
            )
        if orphans:
            self.stdout.write(_("%(count)s entries have no account.") % {"count": orphans})

        params = {
            "accounts": totals.accounts,
            "entries": totals.entries,
            "balance": totals.balance,
            "drifts": len(drifts),
        }
        if drifts or broken or orphans:
            summary = (
                _(
                    "wallet_audit: %(drifts)s of %(accounts)s accounts drift "
                    "(%(entries)s entries, total balance %(balance)s)."
                )
                % params
            )
            if broken:
                summary += " " + _("%(n)s broken chain links.") % {"n": len(broken)}
            raise CommandError(summary, returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "wallet_audit: all %(accounts)s accounts reconcile "
                    "(%(entries)s entries, total balance %(balance)s)."
                )
                % params
            )
        )
