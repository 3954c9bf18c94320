"""Checking the rows of a batch recharge file (批量充值) by the single recharge's rules.

``rows_check`` turns the rows ``wallet.batch_files`` read into what a ``RechargeBatch`` stores:
each row's values (amount parsed, method as its code, reference normalized), the customer the
username or mobile names (among those the uploader may see), the balance before and after
the row, and its errors as ``[column, code, params]`` — shown in the reader's language by
``row_messages``. Every lookup is one query per thousand rows, never one per row.
"""

import unicodedata
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from customers.exceptions import InvalidMobile
from customers.models import Customer
from customers.phone import normalize_mobile
from customers.selectors import customer_scope
from wallet.batch_files import (
    AMOUNT,
    CELL_FORMULA,
    CELL_NUMBER_REFERENCE,
    COLUMN_TITLES,
    CUSTOMER,
    MEMO,
    METHOD,
    REFERENCE,
    join_names,
)
from wallet.exceptions import (
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    REFERENCE_TOO_LONG,
    InvalidAmount,
)
from wallet.models import Account, Entry
from wallet.money import parse_amount
from wallet.selectors import LOOKUP_CHUNK, entries_by_key, entries_by_payment
from wallet.services import PRIMARY, REFERENCE_MAX_LENGTH, payment_reference_normalize

MEMO_MAX_LENGTH = Entry._meta.get_field("memo").max_length
CUSTOMER_MAX_LENGTH = 150

# What is wrong with a cell, by code; rows keep [column, code, params] and are shown in the
# reader's language.
ROW_ERRORS = {
    "formula": CELL_FORMULA,
    "number_reference": CELL_NUMBER_REFERENCE,
    "customer_required": _("Enter the customer's username or mobile."),
    "customer_too_long": _("A username or mobile has at most %(max)s characters."),
    "customer_unknown": _("No customer has the username or mobile %(value)s."),
    "customer_ambiguous": _(
        "%(value)s is the username of one customer and the mobile of another: write the "
        "mobile as +86…, or the other customer's username."
    ),
    "amount_not_a_number": AMOUNT_NOT_A_NUMBER,
    "amount_not_positive": AMOUNT_NOT_POSITIVE,
    "amount_too_precise": AMOUNT_TOO_PRECISE,
    "amount_too_large": AMOUNT_TOO_LARGE,
    "method_required": _("Enter the payment method: %(choices)s."),
    "method_unknown": _("Unknown payment method %(value)s: write one of %(choices)s."),
    "reference_too_long": REFERENCE_TOO_LONG,
    "reference_in_ledger": _(
        "Payment reference %(reference)s (%(method)s) was already entered on %(time)s for "
        "%(customer)s (ledger entry %(entry)s)."
    ),
    "reference_in_file": _(
        "Payment reference %(reference)s (%(method)s) already appears on row %(row)s."
    ),
    "row_repeated": _(
        "This row repeats row %(row)s exactly. If both payments are real, give each its "
        "payment reference."
    ),
    "memo_too_long": _("A memo has at most %(max)s characters."),
}
_AMOUNT_CODES = {
    "amount_not_a_number": AMOUNT_NOT_A_NUMBER,
    "amount_not_positive": AMOUNT_NOT_POSITIVE,
    "amount_too_precise": AMOUNT_TOO_PRECISE,
    "amount_too_large": AMOUNT_TOO_LARGE,
}
# Other words for the payment methods, beside their codes and English and Chinese labels.
METHOD_ALIASES = {
    "bank": "bank_transfer",
    "银行": "bank_transfer",
    "转账": "bank_transfer",
    "对公转账": "bank_transfer",
    "微信": "wechat",
    "weixin": "wechat",
}


# -- checking rows -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def method_names() -> dict[str, str]:
    """Every accepted way of writing a payment method (folded) → its code."""
    names = {_fold(alias): code for alias, code in METHOD_ALIASES.items()}
    for code, label in Entry.PaymentMethod.choices:
        names[_fold(code)] = code
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names[_fold(str(label))] = code
    return names


def _method_choices() -> str:
    return join_names(label for _code, label in Entry.PaymentMethod.choices)


def _customers_named(terms: set[str], user: AbstractBaseUser) -> dict[str, list[Customer]]:
    """Each typed username or mobile → the customers (visible to ``user``) it names."""
    scope = customer_scope(Customer.objects.select_related("user"), user)
    usernames = sorted(t for t in terms if t.isascii() and not any(c.isspace() for c in t))
    mobiles: dict[str, str] = {}
    for term in terms:
        try:
            mobiles[term] = normalize_mobile(term)
        except InvalidMobile:
            pass
    by_username: dict[str, list[Customer]] = defaultdict(list)
    for start in range(0, len(usernames), LOOKUP_CHUNK):
        for customer in scope.filter(user__username__in=usernames[start : start + LOOKUP_CHUNK]):
            by_username[customer.user.get_username().casefold()].append(customer)
    wanted = sorted(set(mobiles.values()))
    by_mobile: dict[str, Customer] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        for customer in scope.filter(mobile__in=wanted[start : start + LOOKUP_CHUNK]):
            by_mobile[customer.mobile] = customer
    found = {}
    for term in terms:
        candidates = by_username.get(term.casefold(), [])
        # Exactly as typed first; else case-insensitively (two such customers: ambiguous).
        exact = [c for c in candidates if c.user.get_username() == term]
        matches = {c.pk: c for c in (exact or candidates)}
        if term in mobiles and mobiles[term] in by_mobile:
            customer = by_mobile[mobiles[term]]
            matches.setdefault(customer.pk, customer)
        found[term] = list(matches.values())
    return found


def row_key(file_hash: str, row: int) -> str:
    """The ledger idempotency key of one row of one file (by content, whoever uploads it)."""
    return f"batch:{file_hash}:{row}"


def _amount(text: str) -> tuple[Decimal | None, tuple | None]:
    try:
        return parse_amount(text), None
    except InvalidAmount as exc:
        # The service's message is already text; find its constant to keep the code.
        for code, message in _AMOUNT_CODES.items():
            text = str(message) % exc.params if exc.params else str(message)
            if text == exc.message:
                return None, (code, {k: str(v) for k, v in exc.params.items()})
        return None, ("amount_not_a_number", {})


def rows_check(parsed_rows, *, file_hash: str, user: AbstractBaseUser) -> list[dict]:
    """Every row as stored on the batch: values, customer, errors (not yet balances)."""
    terms = {r.cells[CUSTOMER] for r in parsed_rows if r.cells[CUSTOMER]}
    customers = _customers_named(terms, user)
    methods = method_names()
    rows: list[dict] = []
    seen_payments: dict[tuple[str, str], int] = {}
    seen_rows: dict[tuple, int] = {}
    for raw in parsed_rows:
        cells = raw.cells
        errors = [list(error) for error in raw.errors]
        row = {"row": raw.number, **cells, "customer_id": None, "errors": errors}
        term = cells[CUSTOMER]
        if not term:
            if not any(e[0] == CUSTOMER for e in errors):
                errors.append([CUSTOMER, "customer_required", {}])
        elif len(term) > CUSTOMER_MAX_LENGTH:
            errors.append([CUSTOMER, "customer_too_long", {"max": CUSTOMER_MAX_LENGTH}])
        elif len(customers.get(term, [])) > 1:
            errors.append([CUSTOMER, "customer_ambiguous", {"value": term}])
        elif not customers.get(term):
            errors.append([CUSTOMER, "customer_unknown", {"value": term}])
        else:
            customer = customers[term][0]
            row.update(
                customer_id=customer.pk,
                customer_name=customer.name,
                customer_username=customer.user.get_username(),
                customer_mobile=customer.mobile,
            )
        if not any(e[0] == AMOUNT for e in errors):
            amount, error = _amount(cells[AMOUNT])
            if error:
                errors.append([AMOUNT, *error])
            else:
                row[AMOUNT] = str(amount)
        method = methods.get(_fold(cells[METHOD]))
        if not cells[METHOD]:
            errors.append([METHOD, "method_required", {}])
        elif method is None:
            errors.append([METHOD, "method_unknown", {"value": cells[METHOD]}])
        else:
            row[METHOD] = method
        reference = payment_reference_normalize(cells[REFERENCE])
        row[REFERENCE] = reference or ""
        if reference and len(reference) > REFERENCE_MAX_LENGTH:
            errors.append([REFERENCE, "reference_too_long", {"max": REFERENCE_MAX_LENGTH}])
        elif reference and method:
            pair = (method, reference)
            if pair in seen_payments:
                errors.append(
                    [
                        REFERENCE,
                        "reference_in_file",
                        {"reference": reference, "method": method, "row": seen_payments[pair]},
                    ]
                )
            else:
                seen_payments[pair] = raw.number
        if len(cells[MEMO]) > MEMO_MAX_LENGTH:
            errors.append([MEMO, "memo_too_long", {"max": MEMO_MAX_LENGTH}])
        whole = tuple(cells[c] for c in (CUSTOMER, AMOUNT, REFERENCE, METHOD, MEMO))
        if whole in seen_rows and not reference:
            errors.append([CUSTOMER, "row_repeated", {"row": seen_rows[whole]}])
        seen_rows.setdefault(whole, raw.number)
        row["key"] = row_key(file_hash, raw.number)
        rows.append(row)
    _check_ledger(rows)
    return rows


def _check_ledger(rows: list[dict]) -> None:
    """Mark rows this file already recorded, and references another entry holds."""
    recorded = {
        key: entry.pk for key, entry in entries_by_key([row["key"] for row in rows]).items()
    }
    pairs = {
        (row[METHOD], row[REFERENCE])
        for row in rows
        if row[REFERENCE] and row[METHOD] in Entry.PaymentMethod.values
    }
    held = entries_by_payment(pairs)
    for row in rows:
        row["recorded"] = recorded.get(row["key"])
        entry = held.get((row[METHOD], row[REFERENCE]))
        if entry is None or entry.pk == row["recorded"]:
            continue
        row["errors"].append(
            [
                REFERENCE,
                "reference_in_ledger",
                {
                    "reference": row[REFERENCE],
                    "method": row[METHOD],
                    "time": timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                    "customer": str(entry.account.customer),
                    "entry": entry.pk,
                },
            ]
        )


def rows_add_balances(rows: list[dict]) -> None:
    """Each row's customer balance before it and after it, in file order."""
    ids = sorted({row["customer_id"] for row in rows if row["customer_id"]})
    balances: dict[int, Decimal] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        accounts = Account.objects.using(PRIMARY).filter(
            customer_id__in=ids[start : start + LOOKUP_CHUNK]
        )
        balances.update(accounts.values_list("customer_id", "balance"))
    for row in rows:
        customer_id = row["customer_id"]
        if not customer_id:
            continue
        before = balances.get(customer_id, Decimal("0.00"))
        row["balance"] = str(before)
        amount_ok = not any(e[0] == AMOUNT for e in row["errors"])
        after = before + Decimal(row[AMOUNT]) if amount_ok and not row["recorded"] else before
        row["after"] = str(after)
        balances[customer_id] = after


def row_messages(row: dict) -> list[tuple[str, str]]:
    """A stored row's errors as (column title, message), in the current language."""
    shown = []
    labels = dict(Entry.PaymentMethod.choices)
    for column, code, params in row.get("errors", []):
        # The list of methods is written in the reader's language, not the uploader's.
        params = {**params, "choices": _method_choices()}
        if "method" in params:
            params["method"] = str(labels.get(params["method"], params["method"]))
        message = str(ROW_ERRORS.get(code, code))
        shown.append(
            (str(COLUMN_TITLES.get(column, column)), message % params if params else message)
        )
    return shown
