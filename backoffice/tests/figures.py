"""Reading the dashboard's figures from its HTML, and what the list each links to must show."""

import html
import re
from decimal import Decimal

FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]*)" href="([^"]+)"')
AMOUNT = re.compile(r"([-+]?)¥?([\d,]+\.\d{2})")  # ¥1,500.50, -¥126.00, +¥3.00

# How a ledger list's totals (credits, debits, net) give the figure that links to it.
LEDGER_FIGURES = {
    "placed_amount": lambda credit, debit, net: -debit,
    "refunds": lambda credit, debit, net: credit,
    "net_sales": lambda credit, debit, net: -net,
    "recharges": lambda credit, debit, net: credit,
    "deductions": lambda credit, debit, net: -debit,
    "balance_held": lambda credit, debit, net: net,
    "top": lambda credit, debit, net: -net,
}


def figures_in(page_html: str) -> list[tuple[str, str, str]]:
    """(figure, value, url) for every linked figure on the dashboard."""
    return [(name, value, html.unescape(url)) for name, value, url in FIGURE.findall(page_html)]


def ledger_figure(name: str, credit: Decimal, debit: Decimal, net: Decimal) -> Decimal:
    """The dashboard value the ledger list with these totals stands for."""
    return LEDGER_FIGURES[name.split("-")[0]](credit, debit, net)


def parse_totals(text: str) -> tuple[Decimal, Decimal, Decimal]:
    """(credits, debits, net) from the ledger list's totals line."""
    credit, debit, net = (
        Decimal(sign + digits.replace(",", "")) for sign, digits in AMOUNT.findall(text)[-3:]
    )
    return credit, debit, net
