"""customers.selectors: the one visibility rule and the one finder every app asks."""

import pytest
from django.contrib.auth.models import AnonymousUser

from customers import selectors
from customers.models import Customer
from customers.selectors import (
    customer_find,
    customer_ids_visible_to,
    customer_is_visible_to,
    customer_scope,
    customer_visible_to,
)
from customers.tests.conftest import grant
from customers.tests.factories import StaffFactory, make_customer

pytestmark = pytest.mark.django_db


def _names(queryset) -> set[str]:
    return set(queryset.values_list("user__username", flat=True))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ali", {"alice"}),  # username beginning
        ("Am", {"amy"}),  # username or name beginning
        ("139123", {"bob"}),  # mobile beginning
        ("+86139123", {"bob"}),
        ("139 1234-5678", {"bob"}),  # spaces and dashes as people type them
        ("12345678", set()),  # a mobile only by its beginning
        ("lic", set()),  # part of a name only on request (name_contains)
        ("  ", set()),
        ("%", set()),  # LIKE wildcards are literal
    ],
)
def test_search_by_beginnings(books, term, expected):
    assert _names(customer_find(term)) == expected


def test_id_and_part_of_a_name(books):
    assert _names(customer_find(str(books["theirs"].pk))) >= {"bob"}
    assert _names(customer_find("lic", name_contains=True)) == {"alice"}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("alice", {"alice"}),
        ("ali", set()),  # exact: no beginnings
        ("13912345678", {"bob"}),
        ("+86 139 1234 5678", {"bob"}),
        ("139123", set()),
    ],
)
def test_exact_names_one_customer(books, term, expected):
    assert _names(customer_find(term, exact=True)) == expected


def test_exact_by_id(books):
    assert _names(customer_find(str(books["mine2"].pk), exact=True)) == {"amy"}


def test_a_display_name_never_picks_a_customer(books):
    make_customer(username="zhang", name="张三")
    assert _names(customer_find("张三")) == {"zhang"}
    assert _names(customer_find("张三", exact=True)) == set()


def test_search_within_a_scope(books):
    scoped = customer_visible_to(books["m1"])
    assert _names(customer_find("b", queryset=scoped)) == set()
    assert _names(customer_find("a", queryset=scoped)) == {"alice", "amy"}


def test_past_the_cap_the_database_ors_the_conditions(books, monkeypatch):
    monkeypatch.setattr(selectors, "FIND_CAP", 1)
    found = customer_find("a")  # alice and amy by username: two, past the cap of one
    assert _names(found) == {"alice", "amy"}
    assert " OR " in str(found.query)


def test_visibility_rule(staff, books):
    everyone = {"alice", "amy", "bob"}
    for role in ("管理员", "财务", "客服", "superuser"):
        assert _names(customer_visible_to(staff[role])) == everyone, role
        assert customer_ids_visible_to(staff[role]) is None
    assert _names(customer_visible_to(books["m1"])) == {"alice", "amy"}
    assert _names(customer_visible_to(books["m2"])) == {"bob"}
    assert customer_is_visible_to(books["mine"], books["m1"])
    assert not customer_is_visible_to(books["theirs"], books["m1"])
    editor = grant(StaffFactory(username="editor"), "customers.change_customer")
    assert _names(customer_visible_to(editor)) == everyone


def test_strangers_and_the_inactive_see_nobody(books):
    assert not customer_scope(Customer.objects.all(), AnonymousUser()).exists()
    unmanaged = StaffFactory(username="unmanaged")
    Customer.objects.filter(pk=books["mine"].pk).update(account_manager=None)
    assert not customer_visible_to(unmanaged).exists()  # never "customers with no manager"
    m1 = books["m1"]
    m1.is_active = False
    m1.save(update_fields=["is_active"])
    assert not customer_visible_to(m1).exists()
