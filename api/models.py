"""API keys: how a customer's own software places and reads orders (/api/v1/)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """One key of one customer. The full key is shown once, at creation, and never stored.

    A key reads ``op_<prefix>_<secret>``: the 8-character ``prefix`` finds the row (unique,
    indexed) and is what the portal, the admin and the request log show; the secret is 32
    random bytes (``secrets.token_urlsafe``). Only ``secret_hash`` (SHA-256 of the whole key)
    is kept. A plain SHA-256 is enough here — unlike a password, the key has 256 bits of
    entropy from the system's CSPRNG, so nobody can guess it from its hash by trying
    candidates, and a slow hash (PBKDF2, argon2) would cost every API request tens of
    milliseconds for no gain. The hash is compared in constant time (``hmac.compare_digest``).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    label = models.CharField(_("label"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    # Addresses or CIDR networks ("203.0.113.7", "198.51.100.0/24"); empty: any address.
    allowed_ips = models.JSONField(_("allowed IP addresses"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Written at most once a minute per key (api.services.api_key_touch), not on every call.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="apikey_customer_created")]

    def __str__(self) -> str:
        return f"{self.label} (op_{self.prefix}…)"

    @property
    def display_prefix(self) -> str:
        """What people see of the key: ``op_<prefix>…``."""
        return f"op_{self.prefix}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
