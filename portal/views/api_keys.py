"""API keys in the portal: list, create (the key is shown once, in this response only),
change the address allowlist, revoke. Every query is scoped to the logged-in customer."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.exceptions import ApiKeyError
from api.models import ApiKey
from api.services import api_key_create, api_key_revoke, api_key_set_allowed_ips
from portal.api_key_forms import ApiKeyCreateForm, ApiKeyIpsForm
from portal.auth import portal_login_required


def _own_key(request, pk: int) -> ApiKey:
    key = ApiKey.objects.using("default").filter(pk=pk, customer=request.customer).first()
    if key is None:
        raise Http404("No such key")
    return key


@never_cache
@require_http_methods(["GET", "POST"])
@portal_login_required
def api_keys_view(request):
    """The customer's keys and the form for a new one. After creating, this response (never
    stored, never cached) is the only place the full key is ever shown."""
    form = ApiKeyCreateForm(request.POST or None)
    created = token = None
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ApiKeyError("")
            created, token = api_key_create(
                customer=request.customer,
                label=form.cleaned_data["label"],
                allowed_ips=form.cleaned_data["allowed_ips"],
                created_by=request.user,
            )
        except ApiKeyError as exc:
            if exc.message:
                form.add_error(None, exc.message)
            status = 400
        else:
            form = ApiKeyCreateForm()
            status = 201
    keys = ApiKey.objects.using("default").filter(customer=request.customer)
    context = {"form": form, "keys": keys, "created": created, "token": token}
    return render(request, "portal/api_keys.html", context, status=status)


@require_POST
@portal_login_required
def api_key_revoke_view(request, pk: int):
    key = _own_key(request, pk)
    try:
        api_key_revoke(key=key)
    except ApiKeyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Key %(label)s was revoked.") % {"label": key.label})
    return redirect("portal:api_keys")


@require_POST
@portal_login_required
def api_key_ips_view(request, pk: int):
    key = _own_key(request, pk)
    form = ApiKeyIpsForm(request.POST)
    if form.is_valid() and not key.is_revoked:
        api_key_set_allowed_ips(key=key, text=" ".join(form.cleaned_data["allowed_ips"]))
        messages.success(
            request, _("The allowed addresses of %(label)s were saved.") % {"label": key.label}
        )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("portal:api_keys")
