"""Reads on customers, scoped to who may see them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from customers.models import Customer


def customer_sees_all(user: AbstractBaseUser) -> bool:
    """Whether the staff user sees every customer (model-wide view or change permission)."""
    return user.has_perm("customers.view_customer") or user.has_perm("customers.change_customer")


def customer_scope(queryset: QuerySet[Customer], user: AbstractBaseUser) -> QuerySet[Customer]:
    """Narrow ``queryset`` to the customers ``user`` may see.

    Account managers hold guardian object permissions on their own customers only; the
    permission table has a direct foreign key to the customer, so this is an indexed join.
    """
    if customer_sees_all(user):
        return queryset
    return get_objects_for_user(
        user,
        ["customers.view_customer", "customers.change_customer"],
        klass=queryset,
        any_perm=True,
        accept_global_perms=False,
    )


def customer_visible_to(user: AbstractBaseUser) -> QuerySet[Customer]:
    """Customers the staff user may see: all with the model permission, else those they manage."""
    base = Customer.objects.select_related("user", "level", "account_manager")
    return customer_scope(base, user)


def customer_get_for_user(*, user: AbstractBaseUser) -> Customer | None:
    """The customer behind a portal user, or None for staff and strangers."""
    return (
        Customer.objects.select_related("user", "level").filter(user=user).first()
        if user.is_authenticated
        else None
    )
