"""0003 moves customers' generic guardian permissions into the direct table."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from customers.models import Customer, CustomerUserObjectPermission
from customers.tests.conftest import fresh
from customers.tests.factories import StaffFactory, make_customer

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "customers.migrations.0003_move_generic_customer_object_permissions"
)


def test_generic_rows_become_direct_rows():
    manager = StaffFactory(username="old_manager")
    customer = make_customer()  # no manager: no direct rows
    content_type = ContentType.objects.get_for_model(Customer)
    view = Permission.objects.get(codename="view_customer")
    # Written the way seed scripts and old versions did: raw rows, the id as text.
    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(
                user=manager, permission=view, content_type=content_type, object_pk=str(target)
            )
            for target in (customer.pk, customer.pk + 1000)  # the second does not exist
        ]
    )
    assert not fresh(manager).has_perm("customers.view_customer", customer)

    migration.forwards(apps, None)

    assert fresh(manager).has_perm("customers.view_customer", customer)
    assert CustomerUserObjectPermission.objects.filter(user=manager).count() == 1
    assert not UserObjectPermission.objects.filter(content_type=content_type).exists()
