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
