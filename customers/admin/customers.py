"""The customer admin: scoped by role, created and edited through the customer services.

Who sees which customer is ``customers.selectors``' one rule: administrators, finance and
support hold ``customers.view_customer`` (or change) model-wide and see everyone; anyone else
sees the customers they are the account manager of — in the list, the change page,
autocomplete and export; any other customer's URL is a 404.
"""

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from core.admin import CappedCountPaginator
from core.exceptions import DomainError
from core.filters import DateRangeFilter
from customers.admin.actions import CustomerActionsMixin
from customers.admin.page import Fact, Panel, Tool, customer_links, customer_row_links
from customers.forms import CustomerChangeForm, CustomerCreationForm, CustomerPasswordForm
from customers.models import Customer
from customers.resources import CustomerResource
from customers.selectors import (
    customer_find,
    customer_is_managed_by,
    customer_is_visible_to,
    customer_manages_any,
    customer_scope,
    customer_sees_all,
)
from customers.services import customer_create, customer_set_password, customer_update
from jobs import conf as jobs_conf
from jobs.exports import export_view
from jobs.imports import ImportForm, ImportRefused, import_start

PASSWORD_SET = _("The portal password of %(customer)s was set.")
PASSWORD_LOGGED = _("Portal password set.")


class CustomerAdmin(CustomerActionsMixin, ImportExportMixin, admin.ModelAdmin):
    form = CustomerChangeForm
    add_form = CustomerCreationForm
    list_display = [
        "username",
        "name",
        "mobile",
        "level",
        "discount",
        "account_manager",
        "is_active",
        "created_at",
    ]
    list_display_links = ["username", "name"]
    list_select_related = ["user", "level", "account_manager"]
    list_filter = [
        "level",
        ("account_manager", RelatedOnlyFieldListFilter),
        "is_active",
        ("created_at", DateRangeFilter),
    ]
    # Only to switch the search box on: get_search_results decides how each term is used.
    search_fields = ["user__username", "name", "mobile"]
    search_help_text = _(
        "ID, username or its beginning, mobile or its beginning (138…, +852…), or part of the name."
    )
    actions = ["change_level", "activate", "deactivate", "reassign_manager"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    date_hierarchy = None
    fieldsets = [
        (_("Customer"), {"fields": ["username", "name", "mobile", "level", "notes"]}),
        (_("Account"), {"fields": ["account_manager", "is_active", "created_at"]}),
    ]
    add_fieldsets = [
        (_("Portal login"), {"fields": ["username", "password1", "password2"]}),
        (_("Customer"), {"fields": ["name", "mobile", "level", "account_manager", "notes"]}),
    ]
    change_readonly_fields = ["username", "account_manager", "is_active", "created_at"]

    # import/export
    resource_classes = [CustomerResource]
    formats = [CSV, XLSX]
    skip_admin_log = True  # one log entry per imported row would dwarf the import itself
    import_template_name = "admin/customers/customer/import.html"

    # -- scoping and permissions -------------------------------------------------------------

    def get_queryset(self, request):
        """Only the customers this user may see (account managers: their own)."""
        return customer_scope(super().get_queryset(request), request.user)

    def is_account_manager(self, request) -> bool:
        """Users who create customers (the manager role) list their own without model-wide view."""
        return request.user.has_perm("customers.add_customer")

    def has_view_permission(self, request, obj=None):
        """Model-wide view/change; else the list for managers, and the customers they manage."""
        if super().has_view_permission(request, obj):
            return True
        if obj is not None:
            return customer_is_visible_to(obj, request.user)
        if self.is_account_manager(request):
            return True
        if not hasattr(request, "_customer_manages_any"):  # asked for every menu entry
            request._customer_manages_any = customer_manages_any(request.user)
        return request._customer_manages_any

    def has_change_permission(self, request, obj=None):
        """Model-wide change, or (account managers) the customers they manage."""
        if super().has_change_permission(request, obj):
            return True
        if obj is None:
            return self.is_account_manager(request)
        return customer_is_managed_by(obj, request.user)

    def has_delete_permission(self, request, obj=None):
        """Customers are deactivated, never deleted: their history stays."""
        return False

    def has_import_permission(self, request):
        """``customers.import_customer`` (administrators)."""
        return request.user.has_perm("customers.import_customer")

    def has_export_permission(self, request):
        """``customers.export_customer`` (administrators, finance); rows stay scoped."""
        return request.user.has_perm("customers.export_customer")

    def get_list_filter(self, request):
        """The account-manager filter only for those who see more than their own."""
        filters = list(super().get_list_filter(request))
        if not customer_sees_all(request.user):
            filters = [
                f for f in filters if not (isinstance(f, tuple) and f[0] == "account_manager")
            ]
        return filters

    # -- import: a background job (jobs.imports) ----------------------------------------------

    def import_action(self, request, *args, **kwargs):
        """Upload: cheap checks now (size, type, encoding, columns), then a job checks every row."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if form.is_bound and form.is_valid():
            try:
                job = import_start(
                    owner=request.user,
                    upload=form.cleaned_data["file"],
                    encoding=form.cleaned_data["encoding"],
                    resource="customers.resources.CustomerResource",
                    name=form.cleaned_data["file"].name,
                    permission="customers.import_customer",
                )
            except ImportRefused as exc:
                form.add_error(None, exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:jobs_job_page", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import customers"),
            "opts": self.opts,
            "form": form,
            "max_bytes": jobs_conf.import_max_bytes(),
        }
        return TemplateResponse(request, self.import_template_name, context)

    def export_action(self, request, *args, **kwargs):
        """CSV/XLSX of the list as filtered now: streamed when small, a background job when big."""
        return export_view(
            request, model_admin=self, spec="customers.resources.customer_export_spec"
        )

    def process_import(self, request, *args, **kwargs):
        """The library's synchronous confirm is replaced by the job page's confirm."""
        raise Http404

    # -- search ------------------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        """``customer_find``: id, username, mobile or name by its beginning, or part of a name."""
        if not search_term.strip():
            return queryset, False
        return customer_find(search_term, queryset=queryset, name_contains=True), False

    # -- columns -----------------------------------------------------------------------------

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, customer: Customer) -> str:
        """The portal login name."""
        return customer.user.get_username()

    @admin.display(description=_("discount"), ordering="level__discount_percent")
    def discount(self, customer: Customer) -> str:
        """The share of the list price the customer pays."""
        return f"{customer.level.discount_percent}%"

    # -- add and change ----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        """The creation form's fields on add (no manager choice for account managers)."""
        if obj is not None:
            return super().get_fieldsets(request, obj)
        if request.user.has_perm("customers.manage_all_customers"):
            return self.add_fieldsets
        first, (name, options) = self.add_fieldsets
        fields = [f for f in options["fields"] if f != "account_manager"]
        return [first, (name, {**options, "fields": fields})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The creation form on add, the edit form on change."""
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        """Username, manager, state and creation time are not edited on the change page."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [f for f in self.change_readonly_fields if f not in fields]
        return fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Levels may be added from the customer page, not edited or deleted from it."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "level" and formfield is not None:
            formfield.widget.can_change_related = False
            formfield.widget.can_delete_related = False
        return formfield

    def get_changeform_initial_data(self, request):
        """A new customer's account manager defaults to its creator."""
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("account_manager", request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        """Create through ``customer_create``, edit through ``customer_update``."""
        data = form.cleaned_data
        if change:
            customer_update(
                customer=obj,
                name=data["name"],
                mobile=data["mobile"],
                level=data["level"],
                notes=data.get("notes", ""),
            )
            return
        manager = request.user
        if request.user.has_perm("customers.manage_all_customers"):
            manager = data.get("account_manager")
        customer = customer_create(
            username=data["username"],
            password=data["password1"],
            name=data["name"],
            mobile=data["mobile"],
            level=data["level"],
            account_manager=manager,
            notes=data.get("notes", ""),
        )
        # The admin goes on to log and redirect with ``obj``: make it the saved customer.
        obj.__dict__.update({k: v for k, v in customer.__dict__.items() if k != "_state"})
        obj._state.adding, obj._state.db = False, customer._state.db
        obj.user = customer.user

    def save_related(self, request, form, formsets, change):
        """Nothing else to save: the services wrote the customer and its permissions."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Another account manager's customer is a 404; a refused write, a message."""
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            raise Http404
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # e.g. a concurrent create took the mobile
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def history_view(self, request, object_id, extra_context=None):
        """A customer outside the user's scope is a 404 here too."""
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The customer at a glance above the form: facts, buttons, links, latest activity."""
        if obj is not None:
            context["customer_facts"] = self.get_facts(request, obj)
            context["customer_tools"] = self.get_tools(request, obj)
            context["customer_panels"] = self.get_panels(request, obj)
            context["customer_links"] = customer_links(request.user, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- the customer page: hooks the apps above extend (customers/admin/page.py) ----------

    def get_facts(self, request, obj: Customer) -> list[Fact]:
        """Level and discount, account manager, status."""
        manager = obj.account_manager
        status = (
            format_html('<span class="badge bg-success">{}</span>', _("active"))
            if obj.is_active
            else format_html('<span class="badge bg-secondary">{}</span>', _("inactive"))
        )
        return [
            Fact("level", _("level"), obj.level.name),
            Fact("discount", _("discount"), self.discount(obj)),
            Fact("manager", _("account manager"), manager.get_username() if manager else "—"),
            Fact("status", _("status"), status),
        ]

    def get_tools(self, request, obj: Customer) -> list[Tool]:
        """Set password, for those who may change this customer."""
        if not self.has_change_permission(request, obj):
            return []
        url = reverse("admin:customers_customer_password", args=[obj.pk])
        return [Tool("password", _("Reset password"), url, "outline-secondary")]

    def get_panels(self, request, obj: Customer) -> list[Panel]:
        """None here: the apps above add the customer's latest activity."""
        return []

    def get_list_display(self, request):
        """The parent's columns plus the customer's other pages and actions (registered links)."""
        columns = list(super().get_list_display(request))

        def pages(customer: Customer):
            return customer_row_links(request.user, customer)

        pages.short_description = _("Go to")
        return [*columns, pages]

    # -- set password ------------------------------------------------------------------------

    def get_urls(self):
        """``<id>/password/`` before the parent's catch-all URLs."""
        custom = [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="customers_customer_password",
            )
        ]
        return [*custom, *super().get_urls()]

    def password_view(self, request, object_id):
        """GET shows the form; POST sets the password (hashed, never shown)."""
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        form = CustomerPasswordForm(
            customer.user, request.POST if request.method == "POST" else None
        )
        if form.is_bound and form.is_valid():
            customer_set_password(customer=customer, password=form.cleaned_data["password1"])
            self.log_change(request, customer, str(PASSWORD_LOGGED))
            self.message_user(request, PASSWORD_SET % {"customer": customer}, messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:customers_customer_change", args=[customer.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set password"),
            "opts": self.opts,
            "original": customer,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/customers/customer/password.html", context)


admin.site.register(Customer, CustomerAdmin)
