"""账户: profile (name; mobile with an SMS code to the new number), password, sessions, logins."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError
from core.net import client_ip
from customers.models import Customer
from customers.services import customer_update
from portal import sms_codes
from portal.auth import portal_login_required
from portal.forms import MobileChangeCodeForm, MobileChangeSendForm, ProfileForm
from portal.models import LoginRecord
from portal.sessions import sessions_active, sessions_end_others

SESSION_NEW_MOBILE = "portal_new_mobile"
HISTORY_ROWS = 20
MOBILE_TAKEN = _("This mobile number belongs to another account.")
MOBILE_SAME = _("This is already your mobile number.")
MOBILE_CODE_SENT = _("A code was sent to %(mobile)s. It is valid for %(minutes)s minutes.")
MOBILE_CHANGED = _("Your mobile number is now %(mobile)s.")
MOBILE_NOTHING_PENDING = _("Ask for a code for the new number first.")
NAME_SAVED = _("Your name was saved.")
SESSIONS_ENDED = _("Logged out of %(count)s other session(s).")


def _page(request, **forms):
    customer = request.customer
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(initial={"name": customer.name}),
        "send_form": forms.get("send_form") or MobileChangeSendForm(),
        "code_form": forms.get("code_form") or MobileChangeCodeForm(),
        "pending_mobile": request.session.get(SESSION_NEW_MOBILE),
        "sessions": sessions_active(user=request.user),
        "current_key": request.session.session_key,
        "logins": LoginRecord.objects.filter(user=request.user)[:HISTORY_ROWS],
    }
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render(request, "portal/account.html", context, status=status)


def _save(customer: Customer, *, name: str | None = None, mobile: str | None = None) -> None:
    customer_update(
        customer=customer,
        name=name if name is not None else customer.name,
        mobile=mobile if mobile is not None else customer.mobile,
        level=customer.level,
        notes=customer.notes,
    )


@never_cache
@require_GET
@portal_login_required
def account_view(request):
    return _page(request)


@require_POST
@portal_login_required
def profile_view(request):
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _page(request, profile_form=form)
    _save(request.customer, name=form.cleaned_data["name"])
    messages.success(request, NAME_SAVED)
    return redirect("portal:account")


@require_POST
@portal_login_required
def mobile_send_view(request):
    """Send a code to the new number (not the old one: it proves the customer holds the new)."""
    form = MobileChangeSendForm(request.POST)
    if form.is_valid():
        mobile = form.cleaned_data["mobile"]
        if mobile == request.customer.mobile:
            form.add_error("mobile", MOBILE_SAME)
        elif Customer.objects.filter(mobile=mobile).exists():
            form.add_error("mobile", MOBILE_TAKEN)
    if not form.is_valid():
        return _page(request, send_form=form)
    try:
        sms_codes.code_issue(mobile=mobile, ip_address=client_ip(request), deliver=True)
    except sms_codes.SmsCodeError as exc:
        form.add_error("mobile", exc.message)
        return _page(request, send_form=form)
    request.session[SESSION_NEW_MOBILE] = mobile
    messages.success(
        request, MOBILE_CODE_SENT % {"mobile": mobile, "minutes": sms_codes.code_minutes()}
    )
    return redirect("portal:account")


@sensitive_post_parameters("code")
@require_POST
@portal_login_required
def mobile_change_view(request):
    form = MobileChangeCodeForm(request.POST)
    mobile = request.session.get(SESSION_NEW_MOBILE)
    if form.is_valid():
        if not mobile:
            form.add_error("code", MOBILE_NOTHING_PENDING)
        else:
            try:
                sms_codes.code_verify(mobile=mobile, code=form.cleaned_data["code"])
                _save(request.customer, mobile=mobile)
            except DomainError as exc:
                form.add_error("code", exc.message)
    if not form.is_valid():
        return _page(request, code_form=form)
    del request.session[SESSION_NEW_MOBILE]
    messages.success(request, MOBILE_CHANGED % {"mobile": mobile})
    return redirect("portal:account")


@require_POST
@portal_login_required
def sessions_end_view(request):
    """Log out everywhere else: this browser stays logged in."""
    count = sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, SESSIONS_ENDED % {"count": count})
    return redirect("portal:account")
