"""The customer admin, extended from the wallet side: balance, 充值 and 扣款 (DESIGN.md).

``customers`` may not import ``wallet``, so this module subclasses ``CustomerAdmin`` and
re-registers it. Everything is composed from the parent (list_display, actions, urls,
the customer page's facts/tools/panels, select_related), so columns and actions the customers
app adds later keep working; the orders app extends this class the same way.

The one-customer 充值/扣款 page shows the balance now and after (wallet/money_form.js as the
amount is typed; the server again when the form comes back), takes the payment method and
reference, and returns to the customer's page with the balance before → after.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import format_yuan
from customers.admin import CustomerAdmin
from customers.admin.page import Fact, Panel, Tool
from customers.models import Customer
from wallet import permissions
from wallet.admin.filters import BalanceBelowFilter
from wallet.admin.links import VIEW_LEDGER, customer_ledger_url, customer_money_url
from wallet.exceptions import DuplicatePaymentReference, WalletError
from wallet.forms import DeductForm, MoneyMovementForm
from wallet.selectors import balance_of, entries_of
from wallet.services import wallet_deduct, wallet_recharge

# One intermediate form moves money for at most this many customers.
MAX_CUSTOMERS_PER_ACTION = 200
# The customer page shows this many latest ledger entries.
PANEL_ROWS = 5
TOO_MANY_SELECTED = _("Select at most %(max)s customers for one %(operation)s.")
MOVED = _("%(customer)s: %(operation)s %(amount)s, balance %(before)s → %(balance)s.")
ALREADY_RECORDED = _(
    "%(customer)s: this %(operation)s of %(amount)s was already recorded at %(time)s "
    "(ledger entry %(entry)s); nothing was changed. Balance now %(balance)s."
)
REFUSED = _("%(customer)s: %(operation)s refused: %(reason)s")
SUMMARY = _("%(operation)s: %(ok)s succeeded, %(failed)s refused.")
LOGGED = _("%(operation)s %(amount)s (ledger entry %(entry)s): %(memo)s")
NO_ENTRIES = _("No ledger entries yet.")
INSUFFICIENT = _("The balance would go below zero: this will be refused.")


@dataclass(frozen=True)
class Operation:
    """A staff money movement: its name in URLs and keys, title, permission, form, service."""

    name: str
    title: Any
    permission: str
    form_class: type[MoneyMovementForm]
    service: Any
    sign: int  # +1 adds to the balance, -1 takes from it


RECHARGE = Operation(
    "recharge", _("Recharge"), permissions.RECHARGE, MoneyMovementForm, wallet_recharge, 1
)
DEDUCT = Operation("deduct", _("Deduct"), permissions.DEDUCT, DeductForm, wallet_deduct, -1)
OPERATIONS = {op.name: op for op in (RECHARGE, DEDUCT)}


def request_key(operation: Operation, form_key: str, customer_id: int) -> str:
    """The ledger idempotency key of one customer's share of one submitted form."""
    return f"admin:{operation.name}:{form_key}:{customer_id}"


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class WalletCustomerAdmin(CustomerAdmin):
    """CustomerAdmin plus the balance, 充值/扣款 (actions and pages), the latest entries."""

    list_display = [*CustomerAdmin.list_display, "balance"]
    list_filter = [*CustomerAdmin.list_filter, BalanceBelowFilter]
    actions = [*(CustomerAdmin.actions or []), "recharge_selected", "deduct_selected"]

    # -- permissions -------------------------------------------------------------------------

    def has_recharge_permission(self, request) -> bool:
        """Finance and administrators (``wallet.permissions.RECHARGE``)."""
        return request.user.has_perm(RECHARGE.permission)

    def has_deduct_permission(self, request) -> bool:
        """Finance and administrators (``wallet.permissions.DEDUCT``)."""
        return request.user.has_perm(DEDUCT.permission)

    # -- balance -----------------------------------------------------------------------------

    def get_list_select_related(self, request):
        """The parent's joins plus the account (a reverse one-to-one needs naming)."""
        parent = super().get_list_select_related(request)
        if isinstance(parent, list | tuple):
            return [*parent, "account"] if "account" not in parent else list(parent)
        # True or False: Django would join every non-null foreign key; name them, plus those
        # shown in the list, because a reverse one-to-one is joined only when named.
        forward = [
            f.name
            for f in self.model._meta.concrete_fields
            if f.is_relation and (not f.null or f.name in self.list_display)
        ]
        return [*forward, "account"]

    @admin.display(description=_("balance"), ordering="account__balance")
    def balance(self, obj: Customer) -> str:
        """The prepaid balance, read from the joined account."""
        account = getattr(obj, "account", None)
        return format_yuan(account.balance if account is not None else 0)

    # -- the customer page -------------------------------------------------------------------

    def get_facts(self, request, obj: Customer) -> list[Fact]:
        """The balance first (read from the primary), then the parent's facts."""
        balance = format_yuan(balance_of(customer_id=obj.pk))
        return [Fact("balance", _("balance"), balance), *super().get_facts(request, obj)]

    def get_tools(self, request, obj: Customer) -> list[Tool]:
        """充值 and 扣款 first, for those who may."""
        tools = []
        if self.has_recharge_permission(request):
            tools.append(
                Tool("recharge", RECHARGE.title, customer_money_url(obj, "recharge"), "primary")
            )
        if self.has_deduct_permission(request):
            tools.append(
                Tool("deduct", DEDUCT.title, customer_money_url(obj, "deduct"), "outline-danger")
            )
        return [*tools, *super().get_tools(request, obj)]

    def get_panels(self, request, obj: Customer) -> list[Panel]:
        """The latest ledger entries, for those who may read the ledger."""
        panels = super().get_panels(request, obj)
        if not request.user.has_perm(VIEW_LEDGER):
            return panels
        entries = entries_of(customer_id=obj.pk)[:PANEL_ROWS]
        rows = [
            [
                _when(entry.created_at),
                entry.get_kind_display(),
                format_yuan(entry.amount, signed=True),
                format_yuan(entry.balance_after),
                entry.payment_reference or entry.order_number or "",
            ]
            for entry in entries
        ]
        ledger = Panel(
            "ledger",
            _("Latest ledger entries"),
            [_("created at"), _("kind"), _("amount"), _("balance after"), _("reference or order")],
            rows,
            more_url=customer_ledger_url(obj),
            more_label=_("All ledger entries"),
            empty=NO_ENTRIES,
            numeric=frozenset({2, 3}),
        )
        return [*panels, ledger]

    # -- actions on selected customers -------------------------------------------------------

    @admin.action(description=_("Recharge selected customers"), permissions=["recharge"])
    def recharge_selected(self, request, queryset):
        """充值 through an intermediate form (amount, memo)."""
        return self._money_action(request, queryset, RECHARGE)

    @admin.action(description=_("Deduct from selected customers"), permissions=["deduct"])
    def deduct_selected(self, request, queryset):
        """扣款 through an intermediate form (amount, required memo)."""
        return self._money_action(request, queryset, DEDUCT)

    def _money_action(self, request, queryset, operation: Operation):
        count = queryset[: MAX_CUSTOMERS_PER_ACTION + 1].count()
        if count > MAX_CUSTOMERS_PER_ACTION:
            message = TOO_MANY_SELECTED % {
                "max": MAX_CUSTOMERS_PER_ACTION,
                "operation": operation.title,
            }
            self.message_user(request, message, messages.ERROR)
            return None
        customers = list(queryset.select_related("user", "account"))
        form = operation.form_class(
            request.POST if "apply" in request.POST else None, customer_count=len(customers)
        )
        if form.is_bound and form.is_valid():
            self._move(request, customers, operation, form.cleaned_data)
            return None  # back to the changelist, with one message per customer
        return self._render_form(request, operation, form, customers, action=True)

    # -- the single-customer page (from the customer page or the list) -----------------------

    def get_urls(self):
        """``<id>/recharge/`` and ``<id>/deduct/`` before the parent's catch-all URLs."""
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        custom = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self.money_view),
                {"operation": name},
                name=f"{prefix}_{name}",
            )
            for name in OPERATIONS
        ]
        return [*custom, *super().get_urls()]

    def money_view(self, request, object_id, operation):
        """One customer's 充值 or 扣款: GET shows the form, POST moves the money and goes back
        to the customer's page, which shows the new balance."""
        operation = OPERATIONS[operation]
        if not request.user.has_perm(operation.permission):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))  # scoped by get_queryset
        if customer is None:
            raise Http404
        form = operation.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            ok = self._move(
                request, [customer], operation, form.cleaned_data, summary=False, form=form
            )
            if ok:
                change = reverse("admin:customers_customer_change", args=[customer.pk])
                return HttpResponseRedirect(change)
        return self._render_form(request, operation, form, [customer], action=False)

    # -- shared ------------------------------------------------------------------------------

    def _move(self, request, customers, operation: Operation, data, summary=True, form=None):
        """Call the service once per customer, each in its own transaction; report each.

        With ``form`` (one customer's page) a refusal is shown in the form, beside the field
        it concerns; otherwise as a message per customer. Returns how many went through
        (a replay of an already-applied form counts: it reports the current balance).
        """
        ok = failed = 0
        for customer in customers:
            params = {"customer": str(customer), "operation": operation.title}
            try:
                entry = operation.service(
                    customer_id=customer.pk,
                    amount=data["amount"],
                    memo=data["memo"],
                    payment_method=data["payment_method"],
                    payment_reference=data["payment_reference"],
                    created_by=request.user,
                    idempotency_key=request_key(operation, data["request_key"], customer.pk),
                )
            except WalletError as exc:
                failed += 1
                if form is not None:
                    field = (
                        "payment_reference" if isinstance(exc, DuplicatePaymentReference) else None
                    )
                    form.add_error(field, exc.message)
                else:
                    self.message_user(
                        request, REFUSED % {**params, "reason": exc.message}, messages.ERROR
                    )
                continue
            ok += 1
            amount = format_yuan(abs(entry.amount))
            if entry.replayed:
                # The form was posted again (back button, double click): nothing new was
                # written, and the balance to tell is today's, not the one this entry left.
                balance = format_yuan(balance_of(customer_id=customer.pk))
                times = {"time": _when(entry.created_at), "entry": entry.pk}
                message = ALREADY_RECORDED % {
                    **params,
                    **times,
                    "amount": amount,
                    "balance": balance,
                }
                self.message_user(request, message, messages.INFO)
                continue
            before = format_yuan(entry.balance_after - entry.amount)
            self.log_change(
                request,
                customer,
                LOGGED % {**params, "amount": amount, "entry": entry.pk, "memo": entry.memo},
            )
            moved = {
                "amount": amount,
                "before": before,
                "balance": format_yuan(entry.balance_after),
            }
            self.message_user(request, MOVED % {**params, **moved}, messages.SUCCESS)
        if summary and len(customers) > 1:
            level = messages.WARNING if failed else messages.INFO
            counts = {"operation": operation.title, "ok": ok, "failed": failed}
            self.message_user(request, SUMMARY % counts, level)
        return ok

    def _render_form(self, request, operation, form, customers, *, action: bool):
        """The form, each customer's balance now and (once an amount is valid) after."""
        amount = form.cleaned_data.get("amount") if form.is_bound else None
        rows = []
        for customer in customers:
            if action:
                account = getattr(customer, "account", None)
                balance = account.balance if account is not None else Decimal("0.00")
            else:
                balance = balance_of(customer_id=customer.pk)
            after = balance + operation.sign * amount if amount is not None else None
            rows.append({"customer": customer, "balance": balance, "after": after})
        context = {
            **self.admin_site.each_context(request),
            "title": operation.title,
            "opts": self.opts,
            "operation": operation,
            "form": form,
            "customers": customers,
            "rows": rows,
            "money_form_config": {"sign": operation.sign, "insufficient": str(INSUFFICIENT)},
            "selected": customers,
            "action": action,
            "action_name": f"{operation.name}_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media + forms.Media(js=["wallet/money_form.js"]),
        }
        return TemplateResponse(request, "admin/wallet/money_form.html", context)


admin.site.unregister(Customer)
admin.site.register(Customer, WalletCustomerAdmin)
