from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """Cross-app back-office wiring: the admin dashboard (above customers, wallet and orders)."""

    name = "backoffice"
    verbose_name = _("Back office")
