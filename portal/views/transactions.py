"""The customer's own ledger: list with filters, and CSV export."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.admin import CappedCountPaginator
from orders.models import Order
from portal import conf
from portal.auth import portal_login_required
from portal.exports import csv_response, local_time
from portal.forms import EntryFilterForm
from portal.labels import kind_label
from portal.selectors import balance_shown, ledger_of


def _filtered_entries(request):
    """The form and the entries it selects; an order number that is not the customer's is 404."""
    form = EntryFilterForm(request.GET or None)
    customer = request.customer
    if not form.is_bound:
        return form, ledger_of(customer=customer)
    if not form.is_valid():
        return form, ledger_of(customer=customer).none()
    filters = form.filters()
    if (
        filters.order_number
        and not Order.objects.filter(customer=customer, number=filters.order_number).exists()
    ):
        raise Http404("No such order")
    return form, ledger_of(customer=customer, filters=filters)


@never_cache
@require_GET
@portal_login_required
def transaction_list_view(request):
    """Ledger entries, newest first, with filters and pagination that keeps them."""
    form, entries = _filtered_entries(request)
    page = CappedCountPaginator(entries, conf.page_size()).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "balance": balance_shown(request.customer),
    }
    return render(request, "portal/transaction_list.html", context)


@require_GET
@portal_login_required
def transaction_export_view(request):
    """The filtered ledger as CSV (text cells formula-escaped)."""
    form, entries = _filtered_entries(request)
    if form.is_bound and not form.is_valid():
        raise Http404("Invalid filters")
    header = [
        gettext("Time"),
        gettext("Type"),
        gettext("Amount"),
        gettext("Balance after"),
        gettext("Order number"),
        gettext("Memo"),
    ]
    rows = (
        [
            local_time(e.created_at),
            kind_label(e.kind),
            e.amount,
            e.balance_after,
            e.order_number,
            e.memo,
        ]
        for e in entries.iterator(chunk_size=500)
    )
    return csv_response(filename="transactions", header=header, rows=rows)
