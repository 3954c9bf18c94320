import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


def sync_roles_after_migrate(sender, app_config, using="default", plan=None, **kwargs):
    """Apply the staff roles once per migrate (or flush): when the last app with models is done."""
    from django.apps import apps as global_apps

    from backoffice.roles import RoleError, sync_roles

    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if not with_models or app_config.label != with_models[-1].label:
        return
    # A migrate that moved backwards may have dropped the tables the roles live in.
    if plan and any(backwards for _migration, backwards in plan):
        return
    # `migrate --database logs` (分库): the roles' tables are not on that database.
    from django.contrib.auth.models import Group
    from django.db import router

    if not router.allow_migrate_model(using, Group):
        return
    try:
        sync_roles(using=using)
    except RoleError as exc:  # migrate itself succeeded; `manage.py sync_roles` fails loudly
        logger.warning("Staff roles not synchronised: %s", exc)


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        """Roles follow every migrate (``manage.py sync_roles`` applies them on demand)."""
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="backoffice_sync_roles")
