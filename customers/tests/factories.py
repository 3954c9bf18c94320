"""Factories for customers' models. Customers are created through the real service."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.models import Customer, Level
from customers.services import customer_create

User = get_user_model()


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Level
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"等级{n}")
    discount_percent = 100
    is_active = True


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff user; pass ``role="财务"`` (a group name from backoffice.roles) to join a role."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_active = True
    password = factory.django.Password("pw-staff-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


_mobile_seq = iter(range(10_000_000, 99_999_999))


def next_mobile() -> str:
    """A valid, unique mainland mobile number."""
    return f"138{next(_mobile_seq):08d}"


def make_customer(
    *,
    username: str | None = None,
    level: Level | None = None,
    account_manager=None,
    password: str | None = "pw-customer-123",
    is_active: bool = True,
    name: str | None = None,
    mobile: str | None = None,
) -> Customer:
    """A customer made the way staff make one (customer_create), with its wallet account."""
    n = next(_username_seq)
    return customer_create(
        username=username or f"cust{n}",
        name=name or f"客户{n}",
        mobile=mobile or next_mobile(),
        level=level or LevelFactory(),
        account_manager=account_manager,
        password=password,
        is_active=is_active,
    )


_username_seq = iter(range(1, 10**9))
