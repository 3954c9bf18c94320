from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Project-wide building blocks that every domain app may import (and that import none)."""

    name = "core"
    verbose_name = _("Platform")

    def ready(self):
        """System checks; the login-security tables (django-axes): superusers only, translated."""
        from core import checks  # noqa: F401 - registers the system checks

        if not apps.is_installed("axes"):
            return
        from django.contrib import admin

        from core.admin import restrict_to_superusers

        # axes names no verbose_name, so the menu would say "Axes" in every language.
        apps.get_app_config("axes").verbose_name = _("Login security")
        # The admin app (listed before core) has already autodiscovered axes' ModelAdmins.
        restrict_to_superusers(admin.site, "axes")
