"""Reads on customers, scoped to who may see them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from customers.models import Customer


def customer_visible_to(user: AbstractBaseUser) -> QuerySet[Customer]:
    """Customers the staff user may see: all with the model permission, else those they manage.

    Account managers hold guardian object permissions on their own customers only.
    """
    base = Customer.objects.select_related("user", "level", "account_manager")
    if user.has_perm("customers.view_customer") or user.has_perm("customers.change_customer"):
        return base
    return get_objects_for_user(
        user,
        ["customers.view_customer", "customers.change_customer"],
        klass=base,
        any_perm=True,
        accept_global_perms=False,
    )


def customer_get_for_user(*, user: AbstractBaseUser) -> Customer | None:
    """The customer behind a portal user, or None for staff and strangers."""
    return (
        Customer.objects.select_related("user", "level").filter(user=user).first()
        if user.is_authenticated
        else None
    )
