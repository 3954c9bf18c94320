"""Logins and sessions: record each login, list a user's live sessions, end the others."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from core.net import client_ip
from portal.models import LoginRecord

LOGIN_PATHS = {"/portal/login/": "password", "/portal/login/sms/": "sms"}


def _method(request) -> str:
    path = getattr(request, "path", "")
    if path in LOGIN_PATHS:
        return LOGIN_PATHS[path]
    return "admin" if path.startswith("/admin/") else "other"


@receiver(user_logged_in, dispatch_uid="portal.login_record")
def login_record(sender, request, user, **kwargs) -> None:
    """Runs after login() rotated the session key, so the key recorded is the live one."""
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    try:
        ip = client_ip(request) or None
    except Exception:  # noqa: BLE001 - a login must not fail over its history line
        ip = None
    LoginRecord.objects.create(
        user=user,
        session_key=request.session.session_key,
        method=_method(request),
        ip_address=ip,
        user_agent=request.headers.get("user-agent", "")[:200],
    )


def sessions_active(*, user) -> list[LoginRecord]:
    """The user's logins whose session still exists and has not expired, newest first."""
    records = LoginRecord.objects.filter(user=user, ended_at__isnull=True)
    live = set(
        Session.objects.filter(
            session_key__in=records.values("session_key"), expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    return [record for record in records if record.session_key in live]


def sessions_end_others(*, user, keep_session_key: str) -> int:
    """End every session of ``user`` but ``keep_session_key`` (cache and database rows).
    Returns how many were ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    records = list(
        LoginRecord.objects.filter(user=user, ended_at__isnull=True).exclude(
            session_key=keep_session_key
        )
    )
    for record in records:
        store(session_key=record.session_key).delete()
    with transaction.atomic():
        LoginRecord.objects.filter(pk__in=[r.pk for r in records]).update(ended_at=timezone.now())
    return len(records)
