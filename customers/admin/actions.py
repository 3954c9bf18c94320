"""Bulk actions on customers: change level, activate, deactivate, reassign account manager.

Each customer is changed by its own service call (its own transaction), and successes and
failures are reported separately, so one refusal does not undo the rest.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from customers.forms import ChangeLevelForm, ReassignManagerForm
from customers.services import (
    customer_reassign_manager,
    customer_set_active,
    customer_set_level,
)

# One intermediate form changes at most this many customers.
MAX_CUSTOMERS_PER_ACTION = 500
TOO_MANY_SELECTED = _("Select at most %(max)s customers for one action.")
ACTION_SUMMARY = _("%(action)s: %(ok)s succeeded, %(failed)s refused.")
ACTION_REFUSED = _("%(customer)s: %(reason)s")
NOT_YOURS = _("You may not change this customer.")
LEVEL_CHANGED = _("Level changed to %(level)s.")
MANAGER_CHANGED = _("Account manager changed to %(manager)s.")
ACTIVATED = _("Activated.")
DEACTIVATED = _("Deactivated: the customer can no longer log in or order.")


class CustomerActionsMixin:
    """The bulk actions of ``CustomerAdmin``; permissions come from its ``has_*`` hooks."""

    def has_reassign_permission(self, request) -> bool:
        """Only administrators hand customers from one account manager to another."""
        return request.user.has_perm("customers.manage_all_customers")

    @admin.action(description=_("Change level of selected customers"), permissions=["change"])
    def change_level(self, request, queryset):
        """Move the selected customers to another level (asks which)."""
        return self._form_action(
            request,
            queryset,
            form_class=ChangeLevelForm,
            action="change_level",
            title=_("Change level"),
            apply=lambda customer, data: customer_set_level(customer=customer, level=data["level"]),
            done=lambda data: LEVEL_CHANGED % {"level": data["level"].name},
        )

    @admin.action(description=_("Activate selected customers"), permissions=["change"])
    def activate(self, request, queryset):
        """Let the selected customers log in and order again."""
        self._each(
            request,
            list(queryset.select_related("user")),
            _("Activate"),
            lambda customer: customer_set_active(customer=customer, is_active=True),
            ACTIVATED,
        )

    @admin.action(description=_("Deactivate selected customers"), permissions=["change"])
    def deactivate(self, request, queryset):
        """Stop the selected customers logging in and ordering; their history stays."""
        self._each(
            request,
            list(queryset.select_related("user")),
            _("Deactivate"),
            lambda customer: customer_set_active(customer=customer, is_active=False),
            DEACTIVATED,
        )

    @admin.action(
        description=_("Reassign account manager of selected customers"),
        permissions=["reassign"],
    )
    def reassign_manager(self, request, queryset):
        """Hand the selected customers to another account manager (asks whom)."""
        return self._form_action(
            request,
            queryset,
            form_class=ReassignManagerForm,
            action="reassign_manager",
            title=_("Reassign account manager"),
            apply=lambda customer, data: customer_reassign_manager(
                customer=customer, account_manager=data["account_manager"]
            ),
            done=lambda data: MANAGER_CHANGED % {"manager": data["account_manager"].get_username()},
        )

    # -- shared ------------------------------------------------------------------------------

    def _form_action(self, request, queryset, *, form_class, action, title, apply, done):
        if queryset[: MAX_CUSTOMERS_PER_ACTION + 1].count() > MAX_CUSTOMERS_PER_ACTION:
            message = TOO_MANY_SELECTED % {"max": MAX_CUSTOMERS_PER_ACTION}
            self.message_user(request, message, messages.ERROR)
            return None
        customers = list(queryset.select_related("user", "level", "account_manager"))
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self._each(request, customers, title, lambda c: apply(c, data), done(data))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "customers": customers,
            "action": True,
            "selected": customers,
            "action_name": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/customers/customer/action_form.html", context)

    def _each(self, request, customers, title, apply, done_message) -> None:
        """Apply to each customer in its own transaction; log and report each outcome."""
        ok = failed = 0
        for customer in customers:
            if not self.has_change_permission(request, customer):
                failed += 1
                refused = ACTION_REFUSED % {"customer": customer, "reason": NOT_YOURS}
                self.message_user(request, refused, messages.ERROR)
                continue
            try:
                apply(customer)
            except DomainError as exc:
                failed += 1
                refused = ACTION_REFUSED % {"customer": customer, "reason": exc.message}
                self.message_user(request, refused, messages.ERROR)
                continue
            ok += 1
            self.log_change(request, customer, str(done_message))
        level = messages.WARNING if failed else messages.SUCCESS
        counts = {"action": title, "ok": ok, "failed": failed}
        self.message_user(request, ACTION_SUMMARY % counts, level)
