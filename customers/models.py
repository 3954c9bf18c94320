from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Level(models.Model):
    """A customer grade; ``discount_percent`` is the share of the list price the customer pays."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    discount_percent = models.PositiveSmallIntegerField(
        _("discount percent"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of the list price the customer pays: 90 pays 90%."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=1) & Q(discount_percent__lte=100),
                name="customers_level_discount_1_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.discount_percent}%)"


class Customer(models.Model):
    """A business customer: a non-staff Django user who logs in to the portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="customer",
    )
    name = models.CharField(_("display name"), max_length=100)
    # E.164, e.g. +8613800138000; unique index also serves prefix search (LIKE '+86138%').
    mobile = models.CharField(_("mobile"), max_length=20, unique=True)
    level = models.ForeignKey(
        Level, verbose_name=_("level"), on_delete=models.PROTECT, related_name="customers"
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="managed_customers",
        null=True,
        blank=True,
        limit_choices_to={"is_staff": True},
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("import_customer", _("Can import customers")),
            ("export_customer", _("Can export customers")),
            ("manage_all_customers", _("Can manage every customer's account manager")),
        ]
        indexes = [
            models.Index(fields=["account_manager", "-created_at"]),
            # Name-prefix search (the order list's "customer name" dimension).
            models.Index(fields=["name"], name="customer_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user.username})"


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """Guardian's per-user object permission on a customer, with a real foreign key.

    The generic table stores the object's id as text; joining it back to an integer primary
    key needs a CAST whose collation MariaDB refuses to compare with the column's. A direct
    foreign key joins on integers, through an index.
    """

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("customer object permission (user)")
        verbose_name_plural = _("customer object permissions (user)")


class CustomerGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's per-group object permission on a customer, with a real foreign key."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("customer object permission (group)")
        verbose_name_plural = _("customer object permissions (group)")
