"""Wallet admin, split by seam: the customer admin's balance and 充值/扣款 (customer.py), the
read-only ledger with totals and export (ledger.py), and its list filters (filters.py)."""

from wallet.admin import customer, ledger, topups  # noqa: F401  (registration happens on import)
