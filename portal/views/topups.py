"""Top-up requests (充值申请): the customer asks for a transfer to be credited, sees each
request's state, and may look at their own proof image (streamed after a check, never a URL
under MEDIA)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.admin import CappedCountPaginator
from core.exceptions import DomainError
from portal import conf
from portal.auth import portal_login_required
from portal.forms import TopUpForm
from wallet.exceptions import TOPUP_DUPLICATE_REFERENCE, TOPUP_UNKNOWN_METHOD, InvalidAmount
from wallet.models import TopUpRequest
from wallet.proofs import proof_response
from wallet.services import topup_methods, topup_request_submit


def _error_field(exc: DomainError) -> str | None:
    if isinstance(exc, InvalidAmount):
        return "amount"
    if exc.message == str(TOPUP_DUPLICATE_REFERENCE):
        return "reference"
    if exc.message == str(TOPUP_UNKNOWN_METHOD):
        return "method"
    return None  # a non-field error


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def topup_list_view(request):
    """The form to ask for a top-up, and the customer's requests with their state."""
    customer = request.customer
    form = TopUpForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            topup_request_submit(
                customer_id=customer.pk,
                submitted_by=request.user,
                proof=form.cleaned_data["proof"],
                **{k: form.cleaned_data[k] for k in ("amount", "method", "payer", "reference")},
            )
        except DomainError as exc:
            form.add_error(_error_field(exc), exc.message)
        else:
            messages.success(request, _("Your top-up request was sent. Finance will review it."))
            return redirect("portal:topup_list")
    requests = TopUpRequest.objects.filter(customer=customer).order_by("-created_at", "-id")
    page = CappedCountPaginator(requests, conf.page_size()).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "methods": topup_methods()}
    return render(request, "portal/topup_list.html", context, status=400 if form.errors else 200)


@never_cache
@require_GET
@portal_login_required
def topup_proof_view(request, pk: int):
    """The customer's own proof image; another customer's request is 404."""
    try:
        topup = TopUpRequest.objects.get(pk=pk, customer=request.customer)
    except TopUpRequest.DoesNotExist as exc:
        raise Http404("No such request") from exc
    return proof_response(topup)
