"""Reconciliation reads: does every balance equal its ledger? A few aggregate queries in all.

For each account: ``balance == SUM(entries.amount) == balance_after of its last entry`` and
``balance >= 0``. The optional chain check also proves every entry's ``balance_after`` equals
the previous one's plus its amount (a window function over the ledger).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from wallet.models import Account, Entry

PRIMARY = "default"

SUM_DIFFERS = _("balance != sum of entries")
LAST_DIFFERS = _("balance != last balance after")
NEGATIVE = _("negative balance")


@dataclass(frozen=True)
class Drift:
    """One account whose balance disagrees with its ledger."""

    account_id: int
    customer_id: int
    balance: Decimal
    entries_sum: Decimal
    last_balance_after: Decimal | None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.balance != self.entries_sum:
            found.append(str(SUM_DIFFERS))
        if self.last_balance_after is not None and self.last_balance_after != self.balance:
            found.append(str(LAST_DIFFERS))
        if self.balance < 0:
            found.append(str(NEGATIVE))
        return found


@dataclass(frozen=True)
class BrokenLink:
    """An entry whose balance_after is not the previous balance_after plus its amount."""

    entry_id: int
    account_id: int
    expected: Decimal
    balance_after: Decimal


@dataclass(frozen=True)
class Totals:
    accounts: int
    entries: int
    balance: Decimal


def _money(value) -> Decimal:
    """Databases return sums as Decimal, float (SQLite) or None; cents either way."""
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))


def _tables() -> dict[str, str]:
    return {"account": Account._meta.db_table, "entry": Entry._meta.db_table}


def audit_totals() -> Totals:
    """How many accounts and entries there are, and the sum of all balances."""
    accounts = Account.objects.using(PRIMARY).aggregate(n=Count("id"), s=Sum("balance"))
    return Totals(
        accounts=accounts["n"],
        entries=Entry.objects.using(PRIMARY).count(),
        balance=_money(accounts["s"]),
    )


def audit_drifts() -> list[Drift]:
    """Every account whose balance, ledger sum and last balance_after disagree (one query).

    The ledger is grouped once (SUM and MAX(id) per account) and joined back to the accounts,
    so the database scans each table once however many accounts there are. The last entry is
    the highest id: entries of one account are inserted one at a time under its row lock.
    ROUND(…, 2) is exact on DECIMAL columns and absorbs SQLite's floating-point sums.
    """
    sql = """
        SELECT a.id, a.customer_id, a.balance, COALESCE(s.total, 0), e.balance_after
        FROM {account} a
        LEFT JOIN (
            SELECT account_id, ROUND(SUM(amount), 2) AS total, MAX(id) AS last_id
            FROM {entry} GROUP BY account_id
        ) s ON s.account_id = a.id
        LEFT JOIN {entry} e ON e.id = s.last_id
        WHERE a.balance <> COALESCE(s.total, 0)
           OR a.balance < 0
           OR (e.id IS NOT NULL AND e.balance_after <> a.balance)
        ORDER BY a.id
    """.format(**_tables())  # noqa: S608 - table names from model meta, no user input
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [
        Drift(
            account_id=row[0],
            customer_id=row[1],
            balance=_money(row[2]),
            entries_sum=_money(row[3]),
            last_balance_after=None if row[4] is None else _money(row[4]),
        )
        for row in rows
    ]


def audit_orphan_entries() -> int:
    """Entries whose account row is gone (impossible with the PROTECT foreign key)."""
    sql = """
        SELECT COUNT(*) FROM {entry} e LEFT JOIN {account} a ON a.id = e.account_id
        WHERE a.id IS NULL
    """.format(**_tables())  # noqa: S608
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def audit_chain(limit: int = 100) -> list[BrokenLink]:
    """Entries that do not continue their account's running balance (window function)."""
    sql = """
        SELECT id, account_id, expected, balance_after FROM (
            SELECT id, account_id, balance_after,
                   ROUND(COALESCE(
                       LAG(balance_after) OVER (PARTITION BY account_id ORDER BY id), 0
                   ) + amount, 2) AS expected
            FROM {entry}
        ) chained
        WHERE expected <> balance_after
        ORDER BY id
        LIMIT %s
    """.format(**_tables())  # noqa: S608
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql, [limit])
        rows = cursor.fetchall()
    return [
        BrokenLink(
            entry_id=row[0],
            account_id=row[1],
            expected=_money(row[2]),
            balance_after=_money(row[3]),
        )
        for row in rows
    ]
