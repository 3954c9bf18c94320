"""Who may use the portal, and the two ways in: password (through django-axes) and SMS code."""

from functools import wraps

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    REDIRECT_FIELD_NAME,
    SESSION_KEY,
    authenticate,
    get_user_model,
    load_backend,
    login,
    logout,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.net import client_ip
from customers.exceptions import InvalidMobile
from customers.models import Customer
from customers.phone import normalize_mobile
from customers.selectors import active_customer_of
from portal import sms_codes

BAD_CREDENTIALS = _(
    "Enter a correct username or mobile number and password. Both may be case-sensitive."
)
LOCKED_OUT = _(
    "Too many failed attempts: logging in with this account from your network is locked. "
    "Try again in %(minutes)s minutes, or log in with an SMS code."
)
LOGIN_REQUIRED = _("Please log in to continue.")
NOT_A_CUSTOMER = _("This account cannot use the customer portal.")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginRefused(DomainError):
    """Wrong credentials, or an account that may not use the portal (one message for both)."""


class LockedOut(DomainError):
    """django-axes locked the username from this address out after repeated failures."""


def customer_by_mobile(mobile: str) -> Customer | None:
    """The customer holding an E.164 mobile number, with its user and level."""
    return Customer.objects.select_related("user", "level").filter(mobile=mobile).first()


def authenticated_user(request: HttpRequest) -> AbstractBaseUser:
    """``request.user`` with its customer and level read in the same statement.

    Django's ``get_user`` reads the user, then the portal would read the customer: two statements
    on every portal request. Here one: the session's user with ``select_related`` of its
    customer and level, accepted only on exactly the terms Django's own ``get_user`` accepts
    without side effects (a ModelBackend session, an active user, a session hash matching the
    current secret). Anything else (no session, another backend, a fallback secret to rotate,
    a changed password to flush) is left to Django: ``request.user`` as usual.
    """
    if hasattr(request, "_cached_user") or not hasattr(request, "session"):
        return request.user
    session = request.session
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
    except (KeyError, ValidationError):
        return request.user
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return request.user
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend) or type(backend).get_user is not ModelBackend.get_user:
        return request.user  # a backend that loads users its own way
    users = get_user_model()._default_manager.select_related("customer__level")
    user = users.filter(pk=user_id).first()
    if (
        user is None
        or not backend.user_can_authenticate(user)
        or not session_hash
        or not constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        return request.user
    request._cached_user = user  # what AuthenticationMiddleware's lazy request.user returns
    return request.user


def _cool_off_minutes(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds() // 60)) if cool_off else 0


def password_login(request: HttpRequest, *, identifier: str, password: str) -> Customer:
    """Log in by username or mobile and password; raise LockedOut or LoginRefused."""
    username = identifier.strip()
    try:
        holder = customer_by_mobile(normalize_mobile(username))
    except InvalidMobile:
        holder = None
    if holder is not None:
        # axes counts failures per username, so a mobile is tried as its customer's username.
        username = holder.user.get_username()
    user = authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise LockedOut(LOCKED_OUT, minutes=_cool_off_minutes(request))
        raise LoginRefused(BAD_CREDENTIALS)
    customer = active_customer_of(user)
    if customer is None:
        raise LoginRefused(BAD_CREDENTIALS)
    login(request, user)
    return customer


def sms_code_send(request: HttpRequest, *, mobile: str) -> None:
    """Send a login code when the number is an active customer's; the same outcome otherwise."""
    holder = customer_by_mobile(mobile)
    deliver = holder is not None and active_customer_of(holder.user) is not None
    sms_codes.code_issue(mobile=mobile, ip_address=client_ip(request), deliver=deliver)


def sms_code_login(request: HttpRequest, *, mobile: str, code: str) -> Customer:
    """Log in with a code sent to ``mobile``; raise CodeRejected or LoginRefused."""
    sms_codes.code_verify(mobile=mobile, code=code)
    holder = customer_by_mobile(mobile)
    # Deactivated between sending and now, or a code nobody was sent and somebody guessed.
    if holder is None or active_customer_of(holder.user) is None:
        raise sms_codes.CodeRejected(sms_codes.CODE_EXPIRED)
    # login() rotates the session key, so a session fixed before login is worthless after it.
    login(request, holder.user, backend=MODEL_BACKEND)
    return holder


def portal_logout(request: HttpRequest) -> None:
    """End the session."""
    logout(request)


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` parameter when it points back into this site, else ``default``."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def portal_login_required(view):
    """Let only portal customers in; others go to the portal login, with ``next``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = active_customer_of(authenticated_user(request))
        if customer is None:
            if request.user.is_authenticated:
                if not request.user.is_staff:
                    # A customer deactivated while logged in: their session ends here.
                    logout(request)
                messages.error(request, NOT_A_CUSTOMER)
            login_url = reverse("portal:login")
            return redirect(
                f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
            )
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapper
