"""Wallet admin, split by seam: the customer admin's balance, 充值/扣款 and latest entries
(customer.py), links to a customer's ledger and money pages wherever the customer is named
(links.py), the read-only ledger with totals and export (ledger.py), and its list filters
(filters.py), batch recharge from a file (batches.py)."""

from wallet.admin import (  # noqa: F401  (registration happens on import)
    batches,
    customer,
    ledger,
    links,
    topups,
)
