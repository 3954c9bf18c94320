from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Background jobs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The generic kinds (imports); apps with their own kinds register them in their ready().
        from jobs import exports, imports  # noqa: F401
