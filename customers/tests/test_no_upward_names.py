"""customers is the lowest business app: nothing in it names an app above it, not even by string.

DESIGN.md: dependencies point one way (portal → orders → wallet → customers). Permission
codenames, URL names, menu entries and prose of ``wallet`` and ``orders`` live above, in those
apps or in ``backoffice``. Tests and migrations are exempt (they may check the whole).
"""

import re
from pathlib import Path

import customers

ROOT = Path(customers.__file__).resolve().parent
EXEMPT = {"tests", "migrations", "__pycache__"}
BINARY = {".mo", ".pyc"}
# "wallet", "wallet.view_entry", "admin:wallet_entry_…", "orders", "orders.place_order"… but
# not "order" or "display_order" (a customer can order; levels have a display order).
UPWARD = re.compile(r"(?<![A-Za-z0-9])(wallets?|orders)(?![A-Za-z0-9])", re.IGNORECASE)


def _files():
    for path in sorted(ROOT.rglob("*")):
        parts = set(path.relative_to(ROOT).parts)
        if path.is_file() and not parts & EXEMPT and path.suffix not in BINARY:
            yield path


def test_the_scan_sees_modules_templates_and_catalogues():
    suffixes = {path.suffix for path in _files()}
    assert {".py", ".html", ".po"} <= suffixes


def test_the_pattern_catches_what_it_must():
    for text in ("wallet.recharge_account", "admin:orders_order_place", "Pending orders", "Wallet"):
        assert UPWARD.search(text), text
    for text in ("display_order", "log in or order", "ordering", "order_by"):
        assert not UPWARD.search(text), text


def test_customers_names_neither_wallet_nor_orders():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if UPWARD.search(line)
    ]
    assert found == []
