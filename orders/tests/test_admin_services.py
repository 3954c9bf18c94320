"""The Service admin: tiers inline, the backend must be configured, the pattern must compile."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.exceptions import QUANTITY_NOT_AN_INTEGER
from orders.models import Service
from wallet.exceptions import AMOUNT_NOT_A_NUMBER, AMOUNT_TOO_PRECISE

pytestmark = pytest.mark.django_db

ADD = reverse("admin:orders_service_add")


def _data(**overrides):
    data = {
        "name": "粉丝",
        "description": "",
        "unit_name": "个",
        "min_quantity": "100",
        "max_quantity": "50000",
        "target_kind": "pattern",
        "target_pattern": r"[A-Za-z0-9_]{3,30}",
        "backend": "simulated",
        "is_active": "on",
        "display_order": "0",
        "tiers-TOTAL_FORMS": "2",
        "tiers-INITIAL_FORMS": "0",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
        "tiers-0-quantity": "100",
        "tiers-0-price": "5.00",
        "tiers-1-quantity": "1000",
        "tiers-1-price": "40.00",
    }
    data.update(overrides)
    return data


def test_service_with_tiers_is_created(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD, _data())
    assert response.status_code == 302, response.context["adminform"].form.errors
    service = Service.objects.get(name="粉丝")
    assert [(t.quantity, t.price) for t in service.tiers.order_by("quantity")] == [
        (100, Decimal("5.00")),
        (1000, Decimal("40.00")),
    ]
    assert "100 → 5.00" in client.get(reverse("admin:orders_service_changelist")).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"backend": "nope"}, "backend"),
        ({"target_pattern": "([a-z"}, "target_pattern"),
        ({"target_pattern": ""}, "target_pattern"),
        ({"min_quantity": "10", "max_quantity": "5"}, None),
    ],
)
def test_bad_service_is_refused(client, admin_user, overrides, field):
    client.force_login(admin_user)
    response = client.post(ADD, _data(**overrides))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors
    if field:
        assert field in form.errors
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "tiers",
    [
        {"tiers-0-quantity": "", "tiers-0-price": "", "tiers-1-quantity": "", "tiers-1-price": ""},
        {"tiers-1-quantity": "100"},  # the same quantity twice
        {"tiers-0-quantity": "60000", "tiers-1-quantity": "70000"},  # above the maximum
        {"tiers-0-price": "0"},
    ],
)
def test_bad_tiers_are_refused(client, admin_user, tiers):
    client.force_login(admin_user)
    response = client.post(ADD, _data(**tiers))
    assert response.status_code == 200
    assert not Service.objects.exists()


@pytest.mark.parametrize("typed", ["１００", "1e3", "1,000", "1_000", "100.0", "+100", " 1 00"])
@pytest.mark.parametrize("field", ["min_quantity", "max_quantity", "tiers-0-quantity"])
def test_quantities_are_whole_ascii_numbers(client, admin_user, typed, field):
    client.force_login(admin_user)
    response = client.post(ADD, _data(**{field: typed}))
    assert response.status_code == 200
    assert str(QUANTITY_NOT_AN_INTEGER) in response.content.decode()
    assert not Service.objects.exists()


@pytest.mark.parametrize("typed", ["５.00", "1e3", "1,5", "1_000", "5.", ".5", "NaN", "5.001"])
def test_tier_prices_are_read_as_strictly_as_amounts(client, admin_user, typed):
    client.force_login(admin_user)
    response = client.post(ADD, _data(**{"tiers-0-price": typed}))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(AMOUNT_NOT_A_NUMBER) in body or str(AMOUNT_TOO_PRECISE) in body
    assert not Service.objects.exists()


def test_spaces_around_quantities_and_prices_are_allowed(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD, _data(**{"min_quantity": " 100 ", "tiers-0-price": " 5.5 "}))
    assert response.status_code == 302
    service = Service.objects.get()
    assert service.min_quantity == 100
    assert service.tiers.get(quantity=100).price == Decimal("5.50")
