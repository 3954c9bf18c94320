"""Admin building blocks shared by the business apps."""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.filters import DateRangeFilter


class CappedCountPaginator(Paginator):
    """A paginator that never counts a whole large table.

    It counts at most ``cap`` rows (``SELECT COUNT(*) FROM (SELECT … LIMIT cap)``), so the
    page costs the same at a thousand rows or a hundred million; past the cap the admin shows
    "cap+" pages' worth and the last page link is an estimate the user can still follow.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        """The exact count up to ``cap``; ``cap`` when there are more."""
        query = self.object_list
        try:
            # Without ORDER BY: the count never needs the list's sort, only the database would.
            return query.order_by()[: self.cap].count()
        except (AttributeError, TypeError):
            return min(len(query), self.cap)


class FastRowsChangeList(ChangeList):
    """A changelist that builds its rows' links once per page, not once per row.

    The row link differs between rows only by the primary key: reverse it once with a marker
    and put each row's key in its place (the admin's ``quote`` makes any key URL-safe), with
    the list's filters to return to (``_changelist_filters``) already appended.
    """

    PK_MARKER = "__pk__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django appends these to every row's link through add_preserved_filters, which
        # resolves each row's URL to do it; the rows get them from url_for_result instead.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    @cached_property
    def _change_url_template(self) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(self.PK_MARKER,),
            current_app=self.model_admin.admin_site.name,
        )

    def url_for_result(self, result) -> str:
        """The row's change URL, from the page's one reversed template."""
        pk = getattr(result, self.pk_attname)
        url = self._change_url_template.replace(self.PK_MARKER, str(quote(pk)), 1)
        return f"{url}?{self.row_filters}" if self.row_filters else url


class FastRowsAdminMixin:
    """For a ModelAdmin with a long list: rows rendered without per-row widget templates.

    Django renders each row's action checkbox through the form renderer's template engine
    (~1 ms a row, half the page's own time at 50 rows) and reverses each row's URL; this
    writes the same checkbox as HTML and uses ``FastRowsChangeList`` for the links.
    """

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        """The row's checkbox, the same markup as ``forms.CheckboxInput`` renders."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def get_changelist(self, request, **kwargs):
        """``FastRowsChangeList`` (a subclass of it if the admin names one)."""
        return FastRowsChangeList


def estimated_table_rows(model) -> int | None:
    """The database's own row estimate for a model's table (no scan), or None if unknown."""
    table = model._meta.db_table
    connection = connections["default"]
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT TABLE_ROWS FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [table],
            )
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        else:
            return None
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class SuperuserOnlyAdminMixin:
    """Shown to superusers only, whatever permissions a role or user has been given."""

    def has_module_permission(self, request):
        """Only superusers see the section in the menu and on the index."""
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        """Only superusers open the lists and records."""
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        """Only superusers change them (e.g. unlock someone)."""
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        """Only superusers delete them."""
        return request.user.is_active and request.user.is_superuser


def restrict_to_superusers(site, app_label: str) -> None:
    """Re-register an app's ModelAdmins so that only superusers see them."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != app_label or isinstance(model_admin, SuperuserOnlyAdminMixin):
            continue
        attributes = {"__module__": __name__}
        hierarchy = getattr(model_admin, "date_hierarchy", None)
        if hierarchy:
            # A date drill-down needs MySQL's time-zone tables (else every page with rows is a
            # 500) and scans the whole table for its dates: the project's range filter instead.
            attributes["date_hierarchy"] = None
            others = [f for f in model_admin.list_filter if f != hierarchy]
            attributes["list_filter"] = [(hierarchy, DateRangeFilter), *others]
        restricted = type(
            f"SuperuserOnly{type(model_admin).__name__}",
            (SuperuserOnlyAdminMixin, type(model_admin)),
            attributes,
        )
        site.unregister(model)
        site.register(model, restricted)
