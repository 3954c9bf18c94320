from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Project-wide building blocks that every domain app may import (and that import none)."""

    name = "core"
    verbose_name = _("Platform")

    def ready(self):
        from core import checks  # noqa: F401 - registers the system checks
