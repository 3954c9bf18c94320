"""Every role against every customer and level admin page and action: allowed or refused."""

import pytest
from django.urls import reverse

from customers.tests.factories import LevelFactory

pytestmark = pytest.mark.django_db

ROLES = ["管理员", "财务", "客户经理", "客服"]
OK, DENIED = 200, 403


def _status(client, url, method="get", data=None):
    return getattr(client, method)(url, data or {}).status_code


# page → expected status per role. Account managers open their own customer's pages.
PAGE_MATRIX = {
    "customer_changelist": {"管理员": OK, "财务": OK, "客户经理": OK, "客服": OK},
    "customer_add": {"管理员": OK, "财务": DENIED, "客户经理": OK, "客服": DENIED},
    "customer_change": {"管理员": OK, "财务": OK, "客户经理": OK, "客服": OK},
    "customer_history": {"管理员": OK, "财务": OK, "客户经理": OK, "客服": OK},
    "customer_password": {"管理员": OK, "财务": DENIED, "客户经理": OK, "客服": DENIED},
    "customer_delete": {"管理员": DENIED, "财务": DENIED, "客户经理": DENIED, "客服": DENIED},
    "customer_import": {"管理员": OK, "财务": DENIED, "客户经理": DENIED, "客服": DENIED},
    "customer_export": {"管理员": OK, "财务": OK, "客户经理": DENIED, "客服": DENIED},
    "level_changelist": {"管理员": OK, "财务": OK, "客户经理": OK, "客服": OK},
    "level_add": {"管理员": OK, "财务": DENIED, "客户经理": DENIED, "客服": DENIED},
    "level_change": {"管理员": OK, "财务": OK, "客户经理": OK, "客服": OK},
    "level_delete": {"管理员": OK, "财务": DENIED, "客户经理": DENIED, "客服": DENIED},
}


def _url(page, books, unused_level):
    model, view = page.split("_", 1)
    if view in {"change", "history", "password", "delete"}:
        obj = books["mine"] if model == "customer" else unused_level
        return reverse(f"admin:customers_{model}_{view}", args=[obj.pk])
    return reverse(f"admin:customers_{model}_{view}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGE_MATRIX))
def test_page_matrix(client, staff, books, role, page):
    unused = LevelFactory(name="未用", discount_percent=80)
    client.force_login(staff[role])
    assert _status(client, _url(page, books, unused)) == PAGE_MATRIX[page][role]


def test_change_page_is_read_only_for_viewing_roles(client, staff, books):
    url = reverse("admin:customers_customer_change", args=[books["mine"].pk])
    for role in ("财务", "客服"):
        client.force_login(staff[role])
        response = client.get(url)
        assert response.context["has_change_permission"] is False
        assert b"/password/" not in response.content
        assert client.post(url, {"name": "x"}).status_code == DENIED
    client.force_login(staff["管理员"])
    assert reverse("admin:customers_customer_password", args=[books["mine"].pk]).encode() in (
        client.get(url).content
    )


@pytest.mark.parametrize("role", ["财务", "客户经理", "客服"])
def test_level_writes_are_refused(client, staff, gold, role):
    client.force_login(staff[role])
    url = reverse("admin:customers_level_change", args=[gold.pk])
    data = {"name": "钻石", "discount_percent": 50, "display_order": 0}
    assert client.post(url, data).status_code == DENIED
    gold.refresh_from_db()
    assert gold.name == "黄金"


# action → roles that see it in the action list.
ACTION_MATRIX = {
    "change_level": {"管理员", "客户经理"},
    "activate": {"管理员", "客户经理"},
    "deactivate": {"管理员", "客户经理"},
    "reassign_manager": {"管理员"},
    "delete_selected": set(),
    "export_admin_action": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_action_matrix(client, staff, books, role):
    client.force_login(staff[role])
    response = client.get(reverse("admin:customers_customer_changelist"))
    offered = set(response.context["cl"].model_admin.get_actions(response.wsgi_request))
    for action, roles in ACTION_MATRIX.items():
        assert (action in offered) == (role in roles), action


@pytest.mark.parametrize("role", ["财务", "客服"])
@pytest.mark.parametrize("action", ["change_level", "activate", "deactivate", "reassign_manager"])
def test_posting_a_hidden_action_changes_nothing(client, staff, books, silver, role, action):
    client.force_login(staff[role])
    client.post(
        reverse("admin:customers_customer_changelist"),
        {
            "action": action,
            "_selected_action": [books["mine"].pk],
            "level": silver.pk,
            "account_manager": books["m2"].pk,
            "apply": "1",
        },
    )
    books["mine"].refresh_from_db()
    assert books["mine"].is_active
    assert books["mine"].level_id != silver.pk
    assert books["mine"].account_manager_id == books["m1"].pk


def test_account_manager_cannot_reassign(client, books):
    client.force_login(books["m1"])
    client.post(
        reverse("admin:customers_customer_changelist"),
        {
            "action": "reassign_manager",
            "_selected_action": [books["mine"].pk],
            "account_manager": books["m2"].pk,
            "apply": "1",
        },
    )
    books["mine"].refresh_from_db()
    assert books["mine"].account_manager_id == books["m1"].pk


def test_level_actions_by_role(client, staff):
    for role in ROLES:
        client.force_login(staff[role])
        response = client.get(reverse("admin:customers_level_changelist"))
        offered = set(response.context["cl"].model_admin.get_actions(response.wsgi_request))
        assert ("delete_unused_selected" in offered) == (role == "管理员")
        assert "delete_selected" not in offered


# menu entry (changelist URL) → roles whose side menu shows it.
MENU_MATRIX = {
    "admin:customers_customer_changelist": set(ROLES),
    "admin:customers_level_changelist": set(ROLES),
    "admin:customers_customer_import": {"管理员"},
    "admin:customers_customer_add": {"管理员", "客户经理"},
    "admin:auth_user_changelist": {"管理员"},
    "admin:auth_group_changelist": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_menu_matrix(client, staff, role):
    client.force_login(staff[role])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    for url_name, roles in MENU_MATRIX.items():
        assert (f'href="{reverse(url_name)}"' in html) == (role in roles), url_name


def test_staff_without_a_role_is_refused(client, db):
    from customers.tests.factories import StaffFactory

    client.force_login(StaffFactory(username="nobody"))
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == DENIED
    assert client.get(reverse("admin:customers_level_changelist")).status_code == DENIED


# shortcut label fragment (by URL) → roles whose admin index shows it.
SHORTCUT_MATRIX = {
    "admin:customers_customer_add": {"管理员", "客户经理"},
    "admin:customers_customer_import": {"管理员"},
    "admin:customers_customer_export": {"管理员", "财务"},
}


@pytest.mark.parametrize("role", ROLES)
def test_index_shortcuts_fit_the_role(client, staff, role):
    client.force_login(staff[role])
    html = client.get(reverse("admin:index")).content.decode()
    shortcuts = html.split("role-shortcuts", 1)[1].split("</div>\n        </div>", 1)[0]
    for url_name, roles in SHORTCUT_MATRIX.items():
        assert (reverse(url_name) in shortcuts) == (role in roles), url_name


# -- one visibility rule, whichever app asks ------------------------------------------------
#
# customers.selectors decides who sees which customer; the customer list, the order list and
# its export, the ledger and its export, the admin's customer autocomplete and the place-order
# form must name the same customers for every mix of permissions.

EVERY_SURFACE_PERMS = (
    "orders.view_order",
    "orders.export_order",
    "orders.place_order",
    "wallet.view_entry",
    "wallet.export_entry",
)


@pytest.fixture
def trade(books):
    """An order and a ledger entry or two for each of alice, amy (manager1) and bob (manager2)."""
    from orders.services import order_place
    from orders.tests.factories import ServiceFactory
    from wallet.services import wallet_recharge

    service = ServiceFactory()
    for key in ("mine", "mine2", "theirs"):
        customer = books[key]
        wallet_recharge(
            customer_id=customer.pk, amount="50", created_by=None, idempotency_key=f"t:{key}"
        )
        order_place(customer=customer, service=service, target="https://a.cn/1", quantity=3)
    return books


def _customer_pks_everywhere(client, user) -> dict[str, set[int] | None]:
    """Which customers each surface shows ``user`` (None: the page refuses them)."""
    import csv
    import io

    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from customers.models import Customer
    from orders.models import Order
    from orders.selectors import customers_served_by

    client.force_login(user)
    by_username = dict(Customer.objects.values_list("user__username", "pk"))
    by_number = dict(Order.objects.values_list("number", "customer_id"))
    seen: dict[str, set[int] | None] = {}

    def listed(url_name, params=None):
        response = client.get(reverse(url_name), params or {})
        return None if response.status_code != OK else response.context["cl"].result_list

    rows = listed("admin:customers_customer_changelist")
    seen["customers"] = None if rows is None else {c.pk for c in rows}
    orders = listed("admin:orders_order_changelist")
    seen["orders"] = None if orders is None else {o.customer_id for o in orders}
    entries = listed("admin:wallet_entry_changelist")
    seen["ledger"] = None if entries is None else {e.account.customer_id for e in entries}

    every_order = list(Order.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "export_csv", ACTION_CHECKBOX_NAME: every_order},
    )
    if response.status_code == OK and response["Content-Type"].startswith("text/csv"):
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        seen["order export"] = {  # order numbers carry a tab (text in Excel)
            by_number[row[0].lstrip("\t")] for row in list(csv.reader(io.StringIO(body)))[1:]
        }
    else:
        seen["order export"] = None
    response = client.get(reverse("admin:wallet_entry_export", args=["csv"]))
    if response.status_code == OK:
        lines = b"".join(response.streaming_content).decode("utf-8-sig")
        seen["ledger export"] = {
            by_username[r[2]] for r in list(csv.reader(io.StringIO(lines)))[1:]
        }
    else:
        seen["ledger export"] = None

    for term in ("", "a", "b"):  # the customer picker on an order / an account, and its search
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "orders", "model_name": "order", "field_name": "customer", "term": term},
        )
        found = (
            {int(r["id"]) for r in response.json()["results"]}
            if response.status_code == OK
            else None
        )
        seen[f"autocomplete {term!r}"] = found
    seen["order search"] = None if orders is None else set()
    for username in ("alice", "amy", "bob"):  # order search by a customer's username
        hits = listed("admin:orders_order_changelist", {"q": username})
        if hits is not None:
            seen["order search"] |= {o.customer_id for o in hits}
    seen["place form"] = set(customers_served_by(user).values_list("pk", flat=True))
    return seen


def _assert_agree(seen: dict, expected: set[int], bob: int, refused: frozenset = frozenset()):
    """Every surface shows exactly ``expected`` (a search, the part of it the term names)."""
    for surface, customers in seen.items():
        if surface in refused:
            assert customers is None, surface
        elif surface == "autocomplete 'a'":  # alice and amy by username and name, not bob
            assert customers == expected - {bob}, surface
        elif surface == "autocomplete 'b'":
            assert customers == expected & {bob}, surface
        else:
            assert customers == expected, surface


def test_every_role_sees_the_same_customers_everywhere(client, staff, trade):
    from orders.tests.conftest import grant as grant_model_wide

    everyone = {trade[k].pk for k in ("mine", "mine2", "theirs")}
    own = {trade["mine"].pk, trade["mine2"].pk}
    bob = trade["theirs"].pk
    for role, expected in (("管理员", everyone), ("财务", everyone), ("客服", everyone)):
        user = grant_model_wide(staff[role], *EVERY_SURFACE_PERMS)
        _assert_agree(_customer_pks_everywhere(client, user), expected, bob)
    manager = grant_model_wide(staff["客户经理"], *EVERY_SURFACE_PERMS)
    _assert_agree(_customer_pks_everywhere(client, manager), own, bob)


def test_change_customer_without_the_manager_role_sees_everyone_everywhere(client, trade):
    """Model-wide change implies view: orders and the ledger used to show such a user only
    the customers they managed, while the customer list showed everyone."""
    from customers.tests.conftest import grant as grant_model_wide
    from customers.tests.factories import StaffFactory

    user = grant_model_wide(
        StaffFactory(username="editor"), "customers.change_customer", *EVERY_SURFACE_PERMS
    )
    everyone = {trade[k].pk for k in ("mine", "mine2", "theirs")}
    seen = _customer_pks_everywhere(client, user)
    _assert_agree(seen, everyone, trade["theirs"].pk)


def test_a_manager_without_any_role_sees_their_customer_everywhere(client, trade):
    """Managing a customer (its account_manager) is what scopes, not a role."""
    from customers.services import customer_reassign_manager
    from customers.tests.conftest import grant as grant_model_wide
    from customers.tests.factories import StaffFactory

    user = grant_model_wide(StaffFactory(username="no_role"), *EVERY_SURFACE_PERMS)
    customer_reassign_manager(customer=trade["mine2"], account_manager=user)
    _assert_agree(_customer_pks_everywhere(client, user), {trade["mine2"].pk}, trade["theirs"].pk)
    client.force_login(user)
    url = reverse("admin:customers_customer_change", args=[trade["mine2"].pk])
    assert client.get(url).status_code == OK
    other = reverse("admin:customers_customer_change", args=[trade["mine"].pk])
    assert client.get(other).status_code in (302, 404)


def test_object_permissions_alone_show_nothing_anywhere(client, trade):
    """A guardian object permission granted by hand, without being the customer's account
    manager, shows nothing — in every app alike (the one rule reads account_manager)."""
    from guardian.shortcuts import assign_perm

    from customers.tests.conftest import fresh
    from customers.tests.conftest import grant as grant_model_wide
    from customers.tests.factories import StaffFactory

    user = grant_model_wide(StaffFactory(username="by_hand"), *EVERY_SURFACE_PERMS)
    for perm in ("customers.view_customer", "customers.change_customer"):
        assign_perm(perm, user, trade["theirs"])
    user = fresh(user)
    assert user.has_perm("customers.view_customer", trade["theirs"])  # guardian says yes…
    seen = _customer_pks_everywhere(client, user)
    refused = frozenset({"customers", "autocomplete ''", "autocomplete 'a'", "autocomplete 'b'"})
    _assert_agree(seen, set(), trade["theirs"].pk, refused)  # …but it scopes nothing
    client.force_login(user)
    url = reverse("admin:customers_customer_change", args=[trade["theirs"].pk])
    assert client.get(url).status_code in (302, 403, 404)
