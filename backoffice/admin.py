"""Users and groups in the admin, with permission names in the page's language.

Django stores a permission's name once, in English, when it migrates ("Can add customer",
"Can export the ledger"), and its user and group pages list those stored names: a zh-hans
administrator choosing a role's permissions read English. No library translates them (they
are rows, not strings in code), so the permission pickers label each permission here, when
the page renders: the four default actions as "可以添加 客户"-style phrases built from the
model's translated verbose name, the ones a model declares in ``Meta.permissions`` by that
declaration (a ``gettext_lazy`` string: the stored name is in whatever language ``migrate`` ran
in), and any other through gettext. A name no catalogue knows (a third-party app's) stays as
stored.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

DEFAULT_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}
PERMISSION_FIELDS = ("permissions", "user_permissions")


def permission_label(permission: Permission) -> str:
    """``应用 | 模型 | 可以添加 模型`` in the active language (Django's "app | model | name")."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    declared = dict(model._meta.permissions) if model is not None else {}
    if model is not None and action in DEFAULT_ACTIONS and model_name == model._meta.model_name:
        name = str(DEFAULT_ACTIONS[action]) % {"model": model._meta.verbose_name}
    elif permission.codename in declared:
        # The model's own (lazy) name: the stored one is in whatever language migrate ran in.
        name = str(declared[permission.codename])
    else:
        name = gettext(permission.name)
    return f"{content_type} | {name}"


class TranslatedPermissionsMixin:
    """Label the permission pickers with ``permission_label``."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in PERMISSION_FIELDS:
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


class StaffUserAdmin(TranslatedPermissionsMixin, UserAdmin):
    pass


class RoleGroupAdmin(TranslatedPermissionsMixin, GroupAdmin):
    pass


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)
