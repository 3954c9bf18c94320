"""Signals the wallet sends for other apps (notifications) without the wallet knowing them.

``balance_changed`` is sent **inside** the transaction that wrote a ledger entry, under the
account lock, after the balance update: a receiver that writes rows (a low-balance outbox event)
commits or rolls back with the money. Receivers must not do slow work here.

    balance_changed.send(sender=Account, account=account, before=Decimal, after=Decimal, entry=entry)
"""

from django.dispatch import Signal

balance_changed = Signal()
