from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data for `make run`. Installed by local settings only, never in production."""

    name = "demo"
    verbose_name = _("Demo data")
