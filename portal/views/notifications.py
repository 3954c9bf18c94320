"""Notifications (通知): the customer's callback URL and signing secret, the low-balance
threshold, and the deliveries of their webhook events with "send again"."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.admin import CappedCountPaginator
from notifications.exceptions import InvalidCallbackUrl, InvalidThreshold, NotificationError
from notifications.selectors import alert_of, deliveries_of, endpoint_of
from notifications.services import (
    alert_threshold_set,
    delivery_resend,
    endpoint_save,
    endpoint_secret_regenerate,
    threshold_parse,
)
from portal import conf
from portal.auth import portal_login_required
from portal.forms import BootstrapForm


class EndpointForm(BootstrapForm):
    url = forms.CharField(
        label=gettext_lazy("Callback URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text=gettext_lazy(
            "We POST a signed JSON event here when an order finishes or your balance runs low."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Send events"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"


class ThresholdForm(BootstrapForm):
    threshold = forms.CharField(
        label=gettext_lazy("Alert me when my balance falls below (¥)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=gettext_lazy(
            "One SMS (and a balance.low event) each time a payment takes the balance below "
            "this amount. Leave empty to turn the alert off."
        ),
    )


def _page(request, *, endpoint_form=None, threshold_form=None, status=200):
    customer = request.customer
    endpoint = endpoint_of(customer_id=customer.pk)
    alert = alert_of(customer_id=customer.pk)
    if endpoint_form is None:
        initial = {"url": endpoint.url, "is_active": endpoint.is_active} if endpoint else {}
        endpoint_form = EndpointForm(initial=initial)
    if threshold_form is None:
        threshold_form = ThresholdForm(
            initial={"threshold": f"{alert.threshold:.2f}"} if alert else {}
        )
    deliveries = deliveries_of(customer_id=customer.pk)
    page = CappedCountPaginator(deliveries, conf.page_size()).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "alert": alert,
        "endpoint_form": endpoint_form,
        "threshold_form": threshold_form,
        "page": page,
        "colours": {"pending": "warning", "delivered": "success", "failed": "danger"},
    }
    return render(request, "portal/notifications.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def notifications_view(request):
    """The page; its POSTs save the callback URL, a new secret, or the threshold."""
    if request.method != "POST":
        return _page(request)
    action = request.POST.get("action")
    if action == "endpoint":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint_save(
                    customer=request.customer,
                    url=form.cleaned_data["url"],
                    is_active=form.cleaned_data["is_active"],
                )
            except InvalidCallbackUrl as exc:
                form.add_error("url", exc.message)
            else:
                messages.success(request, _("Your callback URL was saved."))
                return redirect("portal:notifications")
        return _page(request, endpoint_form=form, status=400)
    if action == "regenerate":
        try:
            endpoint_secret_regenerate(customer=request.customer)
        except NotificationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("A new signing secret was made. Update your receiver to use it.")
            )
        return redirect("portal:notifications")
    if action == "threshold":
        form = ThresholdForm(request.POST)
        if form.is_valid():
            try:
                threshold = threshold_parse(form.cleaned_data["threshold"])
                alert_threshold_set(
                    customer=request.customer, threshold=threshold, actor=request.user
                )
            except InvalidThreshold as exc:
                form.add_error("threshold", exc.message)
            else:
                if threshold is None:
                    messages.success(request, _("The low-balance alert is off."))
                else:
                    messages.success(request, _("Your low-balance alert was saved."))
                return redirect("portal:notifications")
        return _page(request, threshold_form=form, status=400)
    return _page(request, status=400)


@require_POST
@portal_login_required
def delivery_resend_view(request, pk: int):
    """Send a delivery again now; another customer's delivery is 404."""
    try:
        delivery = delivery_resend(delivery_id=pk, customer_id=request.customer.pk)
    except NotificationError as exc:
        raise Http404("No such delivery") from exc
    messages.success(
        request,
        _("Event %(event)s will be sent again shortly.") % {"event": delivery.event.event_id},
    )
    return redirect("portal:notifications")
