"""Range filters for admin lists that live inside jazzmin's one filter form.

Why our own and not django-admin-rangefilter's: that library renders a ``<form>`` of its own
(plus inline ``<script>`` and ``<style>``) for every range. Jazzmin already wraps all filters
and the search box in one ``<form id="changelist-search">``; a form inside a form is invalid
HTML, so the browser closes the outer form early and the search box, the 搜索 button and the
select filters stop submitting (django-jazzmin #621, django-admin-rangefilter #64 and #122,
whose maintainer supports only the default admin). These filters render plain, labelled
inputs — native date pickers and decimal boxes — that jazzmin's form submits together with
the search term, the other filters and the sort order. No inline script: the presets are
ordinary links (``core/static/core/changelist.js`` only makes them keep unsent edits).

The query parameters are the same as rangefilter's (``<field>__range__gte`` / ``__lte``), so
links built for it keep working.
"""

import datetime
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BAD_RANGE = _("%(title)s: “%(value)s” is not valid and was ignored.")
REVERSED_RANGE = _("%(title)s: the start is after the end, so nothing can match.")


class RangeFilter(admin.FieldListFilter):
    """Two inputs, "from" and "to", submitted by the changelist's filter form."""

    template = "admin/core/range_filter.html"
    input_type = "text"
    from_label = _("From")
    to_label = _("To")

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg_gte = f"{field_path}__range__gte"
        self.lookup_kwarg_lte = f"{field_path}__range__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.request = request
        self.bounds = {
            key: self._clean(self._raw(key))
            for key in (self.lookup_kwarg_gte, self.lookup_kwarg_lte)
        }

    # -- parsing -----------------------------------------------------------------------------

    def field_class(self) -> forms.Field:
        """The form field that parses one bound."""
        raise NotImplementedError

    def _raw(self, key: str) -> str:
        value = self.used_parameters.get(key, "")
        if isinstance(value, list):  # Django 5 keeps every value of a repeated parameter
            value = value[-1] if value else ""
        return str(value).strip()

    def _clean(self, raw: str):
        if not raw:
            return None
        try:
            return self.field_class().clean(raw)
        except forms.ValidationError:
            self._warn(BAD_RANGE % {"title": self.title, "value": raw})
            return None

    def _warn(self, message) -> None:
        """Tell the user once per request (the changelist may be built more than once)."""
        said = self.request.__dict__.setdefault("_core_filter_warnings", set())
        if str(message) not in said:
            said.add(str(message))
            messages.warning(self.request, message)

    # -- the admin's filter interface --------------------------------------------------------

    def expected_parameters(self):
        """``<field>__range__gte`` and ``<field>__range__lte``."""
        return [self.lookup_kwarg_gte, self.lookup_kwarg_lte]

    def has_output(self):
        """Always shown: the range is typed, not picked from the data."""
        return True

    def get_facet_counts(self, pk_attname, filtered_qs):
        """No facet counts for a typed range."""
        return {}

    def choices(self, changelist):
        """One "choice" carrying what the template needs (inputs, clear link)."""
        yield {
            "selected": any(v is not None for v in self.bounds.values()),
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("All"),
        }

    def queryset(self, request, queryset):
        """Rows within the bounds given (either may be left open)."""
        low, high = self.bounds[self.lookup_kwarg_gte], self.bounds[self.lookup_kwarg_lte]
        if low is not None and high is not None and low > high:
            self._warn(REVERSED_RANGE % {"title": self.title})
        return queryset.filter(**self.lookups(low, high))

    def lookups(self, low, high) -> dict:
        """ORM lookups for the bounds."""
        found = {}
        if low is not None:
            found[f"{self.field_path}__gte"] = low
        if high is not None:
            found[f"{self.field_path}__lte"] = high
        return found

    # -- rendering ---------------------------------------------------------------------------

    def inputs(self) -> list[dict]:
        """The two inputs: name, label and the value to show."""
        return [
            {
                "name": key,
                "label": label,
                "value": self.display_value(key),
                "id": f"id_{key}",
            }
            for key, label in (
                (self.lookup_kwarg_gte, self.from_label),
                (self.lookup_kwarg_lte, self.to_label),
            )
        ]

    def display_value(self, key: str) -> str:
        """What the input shows: the parsed value, or what was typed if it did not parse."""
        value = self.bounds[key]
        return self._raw(key) if value is None else str(value)

    def presets(self) -> list[dict]:
        """Quick choices shown under the inputs (none by default)."""
        return []


class DateRangeFilter(RangeFilter):
    """A date range on a date or date-time field, in the user's time zone, with presets.

    The end date is inclusive: ``to 2026-12-02`` means up to the end of that day, queried as
    ``< 2026-12-03 00:00`` so an index on the field answers it.
    """

    input_type = "date"

    def field_class(self) -> forms.Field:
        """ISO dates (what ``<input type=date>`` sends) and the locale's formats."""
        return forms.DateField(required=False, localize=True)

    def display_value(self, key: str) -> str:
        """ISO, the only format ``<input type=date>`` accepts."""
        value = self.bounds[key]
        return self._raw(key) if value is None else value.isoformat()

    def lookups(self, low, high) -> dict:
        """Start of the first day to the start of the day after the last."""
        found = {}
        if low is not None:
            found[f"{self.field_path}__gte"] = self._day_start(low)
        if high is not None:
            found[f"{self.field_path}__lt"] = self._day_start(high + datetime.timedelta(days=1))
        return found

    def _day_start(self, day: datetime.date):
        if not isinstance(self.field, models.DateTimeField):
            return day
        start = datetime.datetime.combine(day, datetime.time.min)
        return timezone.make_aware(start) if timezone.is_naive(start) else start

    def presets(self) -> list[dict]:
        """Today, the last 7 and 30 days (today included) and this month, as links."""
        today = timezone.localdate()
        choices = [
            (_("Today"), today, today),
            (_("Last 7 days"), today - datetime.timedelta(days=6), today),
            (_("Last 30 days"), today - datetime.timedelta(days=29), today),
            (_("This month"), today.replace(day=1), today),
        ]
        current = (self.bounds[self.lookup_kwarg_gte], self.bounds[self.lookup_kwarg_lte])
        return [
            {
                "label": label,
                "gte": start.isoformat(),
                "lte": end.isoformat(),
                "selected": current == (start, end),
                "query_string": self.changelist.get_query_string(
                    {
                        self.lookup_kwarg_gte: start.isoformat(),
                        self.lookup_kwarg_lte: end.isoformat(),
                    }
                ),
            }
            for label, start, end in choices
        ]

    def choices(self, changelist):
        """Remember the changelist: the presets' links keep its other parameters."""
        self.changelist = changelist
        yield from super().choices(changelist)


class DecimalRangeFilter(RangeFilter):
    """An amount range in exact decimals (two places, never negative)."""

    input_type = "number"

    def field_class(self) -> forms.Field:
        """A non-negative decimal with at most two places."""
        return forms.DecimalField(
            required=False, max_digits=14, decimal_places=2, min_value=Decimal("0")
        )
