"""The customer admin, extended from the wallet side: balance, 充值 and 扣款 (DESIGN.md).

``customers`` may not import ``wallet``, so this module subclasses ``CustomerAdmin`` and
re-registers it. Everything is composed from the parent (list_display, actions, urls,
readonly fields, fieldsets, select_related), so columns and actions the customers app adds
later keep working.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.admin import CustomerAdmin
from customers.models import Customer
from wallet import permissions
from wallet.admin.filters import BalanceBelowFilter
from wallet.exceptions import WalletError
from wallet.forms import DeductForm, MoneyMovementForm
from wallet.services import wallet_deduct, wallet_recharge

# One intermediate form moves money for at most this many customers.
MAX_CUSTOMERS_PER_ACTION = 200
TOO_MANY_SELECTED = _("Select at most %(max)s customers for one %(operation)s.")
MOVED = _("%(customer)s: %(operation)s %(amount)s, balance now %(balance)s.")
REFUSED = _("%(customer)s: %(operation)s refused: %(reason)s")
SUMMARY = _("%(operation)s: %(ok)s succeeded, %(failed)s refused.")
LOGGED = _("%(operation)s %(amount)s (ledger entry %(entry)s): %(memo)s")


@dataclass(frozen=True)
class Operation:
    """A staff money movement: its name in URLs and keys, title, permission, form, service."""

    name: str
    title: Any
    permission: str
    form_class: type[MoneyMovementForm]
    service: Any


RECHARGE = Operation(
    "recharge", _("Recharge"), permissions.RECHARGE, MoneyMovementForm, wallet_recharge
)
DEDUCT = Operation("deduct", _("Deduct"), permissions.DEDUCT, DeductForm, wallet_deduct)
OPERATIONS = {op.name: op for op in (RECHARGE, DEDUCT)}


def request_key(operation: Operation, form_key: str, customer_id: int) -> str:
    """The ledger idempotency key of one customer's share of one submitted form."""
    return f"admin:{operation.name}:{form_key}:{customer_id}"


def _money(value) -> str:
    return f"¥{value:,.2f}"


class WalletCustomerAdmin(CustomerAdmin):
    """CustomerAdmin plus the balance and the 充值/扣款 actions and pages."""

    list_display = [*CustomerAdmin.list_display, "balance"]
    list_filter = [*CustomerAdmin.list_filter, BalanceBelowFilter]
    actions = [*(CustomerAdmin.actions or []), "recharge_selected", "deduct_selected"]
    change_form_template = "admin/wallet/customer/change_form.html"

    # -- permissions -------------------------------------------------------------------------

    def has_recharge_permission(self, request) -> bool:
        """Finance and administrators: ``wallet.recharge_account``."""
        return request.user.has_perm(RECHARGE.permission)

    def has_deduct_permission(self, request) -> bool:
        """Finance and administrators: ``wallet.deduct_account``."""
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
        return _money(account.balance if account is not None else 0)

    @admin.display(description=_("balance"))
    def wallet_balance(self, obj: Customer) -> str:
        """The balance on the change page: read-only, moved only through 充值/扣款."""
        return self.balance(obj)

    def get_readonly_fields(self, request, obj=None):
        """The parent's read-only fields plus the balance on an existing customer."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "wallet_balance" not in fields:
            fields.append("wallet_balance")
        return fields

    def get_fieldsets(self, request, obj=None):
        """Add a Wallet section unless the parent's fieldsets already show the balance."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None or "wallet_balance" in flatten_fieldsets(fieldsets):
            return fieldsets
        return [*fieldsets, (_("Wallet"), {"fields": ["wallet_balance"]})]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Offer the money buttons this user may use, and extend the parent's template."""
        context["wallet_parent_template"] = select_template(
            [
                *([super().change_form_template] if super().change_form_template else []),
                "admin/customers/customer/change_form.html",
                "admin/customers/change_form.html",
                "admin/change_form.html",
            ]
        )
        context["wallet_tools"] = self._wallet_tools(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _wallet_tools(self, request, obj: Customer) -> list[tuple[str, str]]:
        tools = [
            (gettext("Recharge"), reverse("admin:customers_customer_recharge", args=[obj.pk]))
            if self.has_recharge_permission(request)
            else None,
            (gettext("Deduct"), reverse("admin:customers_customer_deduct", args=[obj.pk]))
            if self.has_deduct_permission(request)
            else None,
        ]
        if request.user.has_perm("wallet.view_entry"):
            ledger = reverse("admin:wallet_entry_changelist")
            query = urlencode({"customer": obj.user.get_username()})
            tools.append((gettext("Ledger"), f"{ledger}?{query}"))
        return [tool for tool in tools if tool is not None]

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
        form = operation.form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._move(request, customers, operation, form.cleaned_data)
            return None  # back to the changelist, with one message per customer
        return self._render_form(request, operation, form, customers, action=True)

    # -- the single-customer page (from the change page) -------------------------------------

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
        """One customer's 充值 or 扣款: GET shows the form, POST moves the money."""
        operation = OPERATIONS[operation]
        if not request.user.has_perm(operation.permission):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))  # scoped by get_queryset
        if customer is None:
            raise Http404
        form = operation.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            ok = self._move(request, [customer], operation, form.cleaned_data, summary=False)
            if ok:
                change = reverse("admin:customers_customer_change", args=[customer.pk])
                return HttpResponseRedirect(change)
        return self._render_form(request, operation, form, [customer], action=False)

    # -- shared ------------------------------------------------------------------------------

    def _move(self, request, customers, operation: Operation, data, summary=True) -> int:
        """Call the service once per customer, each in its own transaction; report each."""
        ok = failed = 0
        for customer in customers:
            params = {"customer": str(customer), "operation": operation.title}
            try:
                entry = operation.service(
                    customer_id=customer.pk,
                    amount=data["amount"],
                    memo=data["memo"],
                    created_by=request.user,
                    idempotency_key=request_key(operation, data["request_key"], customer.pk),
                )
            except WalletError as exc:
                failed += 1
                self.message_user(
                    request, REFUSED % {**params, "reason": exc.message}, messages.ERROR
                )
                continue
            ok += 1
            amount, balance = _money(abs(entry.amount)), _money(entry.balance_after)
            self.log_change(
                request,
                customer,
                LOGGED % {**params, "amount": amount, "entry": entry.pk, "memo": entry.memo},
            )
            self.message_user(
                request, MOVED % {**params, "amount": amount, "balance": balance}, messages.SUCCESS
            )
        if summary and len(customers) > 1:
            level = messages.WARNING if failed else messages.INFO
            counts = {"operation": operation.title, "ok": ok, "failed": failed}
            self.message_user(request, SUMMARY % counts, level)
        return ok

    def _render_form(self, request, operation, form, customers, *, action: bool):
        context = {
            **self.admin_site.each_context(request),
            "title": operation.title,
            "opts": self.opts,
            "operation": operation,
            "form": form,
            "customers": customers,
            "selected": customers,
            "action": action,
            "action_name": f"{operation.name}_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/wallet/money_form.html", context)


admin.site.unregister(Customer)
admin.site.register(Customer, WalletCustomerAdmin)
