"""Logging in (password or SMS code), logging out, changing the password."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from customers.selectors import active_customer_of
from customers.services import customer_set_password
from portal import sms_codes
from portal.auth import (
    LockedOut,
    LoginRefused,
    password_login,
    portal_login_required,
    portal_logout,
    safe_next,
    sms_code_login,
    sms_code_send,
)
from portal.forms import PasswordLoginForm, SmsLoginForm, SmsSendForm

SESSION_SMS_MOBILE = "portal_sms_mobile"
LOGGED_OUT = _("You have logged out.")
PASSWORD_CHANGED = _("Your password has been changed.")


def _login_page(
    request, *, method="password", password_form=None, sms_send_form=None, sms_form=None, status=200
):
    mobile = request.session.get(SESSION_SMS_MOBILE, "")
    context = {
        "method": method,
        "password_form": password_form or PasswordLoginForm(),
        "sms_send_form": sms_send_form or SmsSendForm(initial={"mobile": mobile}),
        "sms_form": sms_form or SmsLoginForm(initial={"mobile": mobile}),
        "code_sent": bool(mobile),
        "resend_wait": sms_codes.resend_wait(mobile=mobile) if mobile else 0,
        "next": safe_next(request, ""),
    }
    return render(request, "portal/login.html", context, status=status)


def _after_login(request):
    request.session.pop(SESSION_SMS_MOBILE, None)
    return redirect(safe_next(request, reverse("portal:dashboard")))


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    """The login page; a POST here is the password login."""
    if request.method == "GET":
        if active_customer_of(request.user) is not None:
            return redirect(safe_next(request, reverse("portal:dashboard")))
        method = "sms" if request.GET.get("method") == "sms" else "password"
        return _login_page(request, method=method)
    form = PasswordLoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, password_form=form)
    try:
        password_login(
            request,
            identifier=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
        )
    except LockedOut as exc:
        form.add_error(None, exc.message)
        # The page says why itself; axes' middleware must not swap it for its bare response.
        request.axes_locked_out = False
        return _login_page(request, password_form=form, status=429)
    except LoginRefused as exc:
        form.add_error(None, exc.message)
        return _login_page(request, password_form=form)
    return _after_login(request)


@never_cache
@require_POST
def sms_send_view(request):
    """Ask for a code: the same answer whether or not the number is a customer's."""
    form = SmsSendForm(request.POST)
    if not form.is_valid():
        return _login_page(request, method="sms", sms_send_form=form)
    mobile = form.cleaned_data["mobile"]
    request.session[SESSION_SMS_MOBILE] = mobile
    try:
        sms_code_send(request, mobile=mobile)
    except sms_codes.SmsCodeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, sms_codes.CODE_SENT % {"minutes": sms_codes.code_minutes()})
    return redirect(_sms_page(request))


def _sms_page(request) -> str:
    url = f"{reverse('portal:login')}?method=sms"
    target = safe_next(request, "")
    if target:
        url += "&" + urlencode({"next": target})
    return url


@never_cache
@sensitive_post_parameters("code")
@require_POST
def sms_login_view(request):
    """Log in with the mobile and the code sent to it."""
    form = SmsLoginForm(request.POST)
    if form.is_valid():
        mobile = form.cleaned_data["mobile"]
        request.session[SESSION_SMS_MOBILE] = mobile
        try:
            sms_code_login(request, mobile=mobile, code=form.cleaned_data["code"])
        except sms_codes.SmsCodeError as exc:
            form.add_error("code", exc.message)
        else:
            return _after_login(request)
    return _login_page(request, method="sms", sms_form=form)


@require_POST
def logout_view(request):
    """Log out (a POST, so no link or image can log anyone out)."""
    portal_logout(request)
    messages.info(request, LOGGED_OUT)
    return redirect("portal:login")


@never_cache
@sensitive_post_parameters()
@portal_login_required
def password_change_view(request):
    """Change the password (or set a first one after SMS logins); the session stays logged in."""
    user = request.customer.user
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer_set_password(
            customer=request.customer, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, user)
        messages.success(request, PASSWORD_CHANGED)
        return redirect("portal:dashboard")
    return render(request, "portal/password_change.html", {"form": form})
