"""Placing, listing, showing and cancelling the customer's own orders."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.admin import CappedCountPaginator
from core.exceptions import DomainError
from orders.exceptions import PriceChanged
from orders.forms import SHOWN_AMOUNT_INVALID, read_shown_amount
from orders.models import Order
from orders.services import order_cancel, order_place
from portal import conf
from portal.auth import portal_login_required
from portal.exports import csv_response, local_time
from portal.forms import ConfirmOrderForm, OrderFilterForm, OrderForm
from portal.labels import status_label
from portal.selectors import balance_shown, order_entries, order_events, order_of, orders_of
from wallet.exceptions import INSUFFICIENT_FUNDS

ORDER_PLACED = _("Order %(number)s is placed: %(amount)s was charged to your balance.")
ORDER_ALREADY_PLACED = _("This order was already placed as %(number)s; it was not charged twice.")
PRICE_CHANGED = _("The price changed since you looked. Please check the new amount and confirm.")
ORDER_CANCELLED = _("Order %(number)s is cancelled: %(amount)s was refunded to your balance.")
NOT_CANCELLABLE = _("Only a pending order can be cancelled.")


def _balance(request):
    return balance_shown(request.customer)


def _order_form_page(request, form, status=200):
    context = {
        "form": form,
        "services": list(form.services.values()),
        "balance": _balance(request),
        "level": request.customer.level,
    }
    return render(request, "portal/order_form.html", context, status=status)


def _insufficient(form, balance) -> bool:
    if form.quote.amount <= balance:
        return False
    form.add_error(None, INSUFFICIENT_FUNDS % {"balance": balance, "amount": form.quote.amount})
    return True


def _confirm_page(request, form, *, quote, notice=""):
    balance = _balance(request)
    data = form.cleaned_data
    confirm = ConfirmOrderForm(
        customer=request.customer,
        initial={
            "service": data["service"].pk,
            "target": data["target"],
            "quantity": data["quantity"],
            "idempotency_key": data["idempotency_key"],
            "shown_amount": quote.amount,
        },
    )
    context = {
        "form": confirm,
        "service": data["service"],
        "target": data["target"],
        "quote": quote,
        "balance": balance,
        "balance_after": balance - quote.amount,
        "notice": notice,
    }
    return render(request, "portal/order_confirm.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def order_new_view(request):
    """The order form; a valid POST shows the confirmation of exactly what will be charged."""
    if request.method == "GET":
        initial = {"service": request.GET.get("service")} if request.GET.get("service") else {}
        return _order_form_page(request, OrderForm(customer=request.customer, initial=initial))
    if "edit" in request.POST:  # "Change" on the confirmation page: back to the filled form
        initial = {
            k: request.POST.get(k) for k in ("service", "target", "quantity", "idempotency_key")
        }
        return _order_form_page(request, OrderForm(customer=request.customer, initial=initial))
    form = OrderForm(request.POST, customer=request.customer)
    if not form.is_valid() or _insufficient(form, _balance(request)):
        return _order_form_page(request, form)
    return _confirm_page(request, form, quote=form.quote)


def _idempotency_key(data) -> str:
    # The form's key plus what is ordered: resubmitting the same order finds the first one,
    # while going back and changing it makes a new order, not a silent replay of the old one.
    what = f"{data['service'].pk}|{data['target']}|{data['quantity']}"
    return f"portal:{data['idempotency_key'].hex}:{hashlib.sha256(what.encode()).hexdigest()[:16]}"


@never_cache
@require_POST
@portal_login_required
def order_confirm_view(request):
    """Place the confirmed order at the amount shown, or show the new price to confirm again.

    ``order_place`` compares the amount under the account lock and finds a repeated submit by
    its key, so a price change at any moment is never charged unseen and a double submit is
    one order.
    """
    form = ConfirmOrderForm(request.POST, customer=request.customer)
    if not form.is_valid():
        visible = OrderForm(request.POST, customer=request.customer)
        visible.is_valid()
        return _order_form_page(request, visible)
    data = form.cleaned_data
    shown = read_shown_amount(data["shown_amount"])
    if shown is None:
        return _confirm_page(request, form, quote=form.quote, notice=SHOWN_AMOUNT_INVALID)
    try:
        order = order_place(
            customer=request.customer,
            service=data["service"],
            target=data["target"],
            quantity=data["quantity"],
            expected_amount=shown,
            idempotency_key=_idempotency_key(data),
            created_by=request.user,
        )
    except PriceChanged as exc:
        return _confirm_page(request, form, quote=exc.quote, notice=PRICE_CHANGED)
    except DomainError as exc:
        visible = OrderForm(request.POST, customer=request.customer)
        visible.is_valid()
        visible.add_error(None, exc.message)
        return _order_form_page(request, visible)
    if order.replayed:
        messages.info(request, ORDER_ALREADY_PLACED % {"number": order.number})
    else:
        messages.success(request, ORDER_PLACED % {"number": order.number, "amount": order.amount})
    return redirect("portal:order_detail", number=order.number)


def _filtered_orders(request):
    form = OrderFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, orders_of(customer=request.customer).none()
    filters = form.filters() if form.is_bound else None
    return form, orders_of(customer=request.customer, filters=filters)


@never_cache
@require_GET
@portal_login_required
def order_list_view(request):
    """The customer's orders: search, filters, pagination that keeps them."""
    form, orders = _filtered_orders(request)
    page = CappedCountPaginator(orders, conf.page_size()).get_page(request.GET.get("page"))
    return render(request, "portal/order_list.html", {"form": form, "page": page})


@require_GET
@portal_login_required
def order_export_view(request):
    """The filtered orders as CSV."""
    form, orders = _filtered_orders(request)
    if form.is_bound and not form.is_valid():
        raise Http404("Invalid filters")
    header = [
        gettext("Order number"),
        gettext("Created at"),
        gettext("Service"),
        gettext("Target"),
        gettext("Quantity"),
        gettext("Delivered"),
        gettext("List price"),
        gettext("Amount charged"),
        gettext("Status"),
        gettext("Finished at"),
    ]
    rows = (
        [
            o.number,
            local_time(o.created_at),
            o.service.name,
            o.target,
            o.quantity,
            o.delivered_quantity,
            o.list_price,
            o.amount,
            status_label(o.status),
            local_time(o.finished_at),
        ]
        for o in orders.iterator(chunk_size=500)
    )
    return csv_response(filename="orders", header=header, rows=rows)


@never_cache
@require_GET
@portal_login_required
def order_detail_view(request, number):
    """One order: what was bought and charged, its status timeline, the money it moved."""
    order = order_of(customer=request.customer, number=number)
    context = {
        "order": order,
        "events": order_events(order=order),
        "entries": order_entries(customer=request.customer, order=order),
        "can_cancel": order.status == Order.Status.PENDING,
    }
    return render(request, "portal/order_detail.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def order_cancel_view(request, number):
    """GET: are you sure? POST: cancel the pending order and refund it in full."""
    order = order_of(customer=request.customer, number=number, primary=True)
    if request.method == "GET":
        if order.status != Order.Status.PENDING:
            messages.error(request, NOT_CANCELLABLE)
            return redirect("portal:order_detail", number=order.number)
        balance = _balance(request)
        context = {"order": order, "balance": balance, "balance_after": balance + order.amount}
        return render(request, "portal/order_cancel.html", context)
    try:
        # Stored for staff to read, so in the site's language rather than the customer's.
        with translation.override(settings.LANGUAGE_CODE):
            reason = gettext("Cancelled by the customer in the portal")
        order = order_cancel(order=order, actor=request.user, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, ORDER_CANCELLED % {"number": order.number, "amount": order.amount}
        )
    return redirect("portal:order_detail", number=order.number)
