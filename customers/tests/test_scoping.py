"""An account manager never sees another's customer: list, change page, URLs, autocomplete,
export, actions."""

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.tests.conftest import grant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:customers_customer_changelist"


def test_list_shows_only_own_customers(client, books):
    client.force_login(books["m1"])
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    shown = {c.pk for c in response.context["cl"].result_list}
    assert shown == {books["mine"].pk, books["mine2"].pk}
    assert b"bob" not in response.content


@pytest.mark.parametrize("suffix", ["change", "history", "password"])
def test_someone_elses_customer_by_url_is_404(client, books, suffix):
    client.force_login(books["m1"])
    url = reverse(f"admin:customers_customer_{suffix}", args=[books["theirs"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x"}).status_code == 404


def test_own_customer_change_page_opens_and_saves(client, books, gold):
    client.force_login(books["m1"])
    url = reverse("admin:customers_customer_change", args=[books["mine"].pk])
    assert client.get(url).status_code == 200
    data = {"name": "Alice 2", "mobile": "139 0000 0001", "level": gold.pk, "notes": "vip"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice = Customer.objects.get(pk=books["mine"].pk)
    assert (alice.name, alice.mobile, alice.notes) == ("Alice 2", "+8613900000001", "vip")


def test_autocomplete_offers_only_own_customers(client, books):
    client.force_login(books["m1"])
    url = reverse("admin:autocomplete")
    params = {
        "app_label": "orders",
        "model_name": "order",
        "field_name": "customer",
        "term": "",
    }
    response = client.get(url, params)
    if response.status_code == 200:  # only if the order admin uses autocomplete for customers
        ids = {int(r["id"]) for r in response.json()["results"]}
        assert books["theirs"].pk not in ids
    # The customer admin's own search is scoped the same way.
    response = client.get(reverse(CHANGELIST), {"q": "bob"})
    assert list(response.context["cl"].result_list) == []


def test_export_contains_only_own_customers(client, books):
    m1 = grant(books["m1"], "customers.export_customer")
    client.force_login(m1)
    response = client.get(reverse("admin:customers_customer_export"), {"format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "alice" in body and "amy" in body
    assert "bob" not in body


def test_actions_cannot_reach_someone_elses_customer(client, books):
    client.force_login(books["m1"])
    response = client.post(
        reverse(CHANGELIST),
        {"action": "deactivate", "_selected_action": [books["theirs"].pk]},
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=books["theirs"].pk).is_active


def test_manager_deactivates_own_customer(client, books):
    client.force_login(books["m1"])
    client.post(
        reverse(CHANGELIST), {"action": "deactivate", "_selected_action": [books["mine"].pk]}
    )
    alice = Customer.objects.select_related("user").get(pk=books["mine"].pk)
    assert not alice.is_active and not alice.user.is_active


def test_reassigning_moves_visibility(client, books, staff):
    client.force_login(staff["管理员"])
    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "reassign_manager",
            "_selected_action": [books["mine"].pk],
            "account_manager": books["m2"].pk,
            "apply": "1",
        },
    )
    assert response.status_code == 302
    client.force_login(books["m2"])
    shown = {c.pk for c in client.get(reverse(CHANGELIST)).context["cl"].result_list}
    assert shown == {books["mine"].pk, books["theirs"].pk}
    client.force_login(books["m1"])
    url = reverse("admin:customers_customer_change", args=[books["mine"].pk])
    assert client.get(url).status_code == 404
