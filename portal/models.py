"""Who logged in, when, from where, and with which session (for 账户 → sessions and history)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginRecord(models.Model):
    """One login. The session key lets the account page list and end the user's sessions
    (sessions are cached_db: nothing else links a session row to its user)."""

    class Method(models.TextChoices):
        PASSWORD = "password", _("Password")
        SMS = "sms", _("SMS code")
        ADMIN = "admin", _("Admin login")
        OTHER = "other", _("Other")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="login_records",
    )
    session_key = models.CharField(_("session key"), max_length=40, db_index=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("login")
        verbose_name_plural = _("logins")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.method} {self.created_at:%Y-%m-%d %H:%M}"
