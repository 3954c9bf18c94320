"""Import through the admin (preview, confirm, refusal) and export (scoping, formula escaping)."""

import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from customers.resources import DUPLICATE_IN_FILE
from customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

HEADER = "username,name,mobile,level,account_manager,active\n"
IMPORT = "admin:customers_customer_import"
PROCESS = "admin:customers_customer_process_import"


def upload(client, text: str, *, name="customers.csv", fmt="0"):
    """Step 1: upload the file; the response is the preview (a dry run)."""
    data = io.BytesIO(text.encode("utf-8")) if isinstance(text, str) else io.BytesIO(text)
    data.name = name
    return client.post(reverse(IMPORT), {"format": fmt, "import_file": data})


def confirm(client, preview):
    """Step 2: post the confirm form the preview offered."""
    form = preview.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(reverse(PROCESS), data)


@pytest.fixture
def admin_client(client, staff, gold, silver):
    client.force_login(staff["管理员"])
    return client


def test_a_good_file_previews_every_row_then_imports(admin_client, books, gold):
    rows = "".join(f"new{i},客户{i},1370000{i:04d},黄金,manager1,1\n" for i in range(1000))
    preview = upload(admin_client, HEADER + rows)
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [r.import_type for r in result.valid_rows()] == ["new"] * 1000
    assert preview.content.decode().count('<tr class="new">') == 1000  # every row shown
    assert "new0" in preview.content.decode()
    assert Customer.objects.filter(user__username__startswith="new").count() == 0  # dry run

    response = confirm(admin_client, preview)
    assert response.status_code == 302
    imported = Customer.objects.filter(user__username__startswith="new").select_related("user")
    assert imported.count() == 1000
    first = imported.get(user__username="new0")
    assert (first.mobile, first.level, first.account_manager) == (
        "+8613700000000",
        gold,
        books["m1"],
    )
    assert not first.user.has_usable_password() and not first.user.is_staff
    # The account manager sees the imported customers (object permissions granted in bulk).
    admin_client.force_login(books["m1"])
    listed = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "new99"})
    expected = {"new99", *(f"new99{i}" for i in range(10))}
    assert {c.user.username for c in listed.context["cl"].result_list} == expected


def test_a_file_with_three_bad_rows_is_refused_whole(admin_client, books):
    before = Customer.objects.count()
    text = HEADER + (
        "ok1,好客户,13700000001,黄金,,1\n"
        "bad1,等级不存在,13700000002,钻石,,1\n"
        "bad2,手机号错误,12345,黄金,,1\n"
        "bad3,手机重复,13700000001,黄金,,1\n"
        "ok2,好客户2,13700000005,白银,,0\n"
    )
    preview = upload(admin_client, text)
    result = preview.context["result"]
    assert "confirm_form" not in preview.context
    errors = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert set(errors) == {2, 3, 4}
    assert list(errors[2]) == ["level"] and "钻石" in errors[2]["level"][0]
    assert list(errors[3]) == ["mobile"]
    with translation.override("zh-hans"):  # the request's language (LANGUAGE_CODE)
        expected = str(DUPLICATE_IN_FILE % {"value": "+8613700000001", "row": 1})
    assert errors[4] == {"mobile": [expected]}
    page = preview.content.decode()
    assert "钻石" in page and "customers-import-refused" in page
    listed = page.split("customers-import-errors", 1)[1].split("</ul>", 1)[0]
    assert listed.count("<li>") == 3  # every error, spelled out by row and column
    assert Customer.objects.count() == before
    assert not get_user_model().objects.filter(username__in=["ok1", "ok2"]).exists()


def test_confirming_a_file_that_became_invalid_writes_nothing(admin_client, books):
    preview = upload(admin_client, HEADER + "late1,晚到,13700000009,黄金,,1\n")
    make_customer(username="racer", mobile="13700000009")  # takes the mobile meanwhile
    confirm(admin_client, preview)
    assert not get_user_model().objects.filter(username="late1").exists()


def test_existing_customers_are_updated_and_the_preview_says_so(admin_client, books, silver):
    text = HEADER + (
        # by username: new name, new mobile, new level, handed to manager2, deactivated
        "alice,Alice Renamed,13600000001,白银,manager2,0\n"
        # by mobile (bob's), same username
        "bob,Bob B,13912345678,白银,manager2,1\n"
        "fresh,新人,13600000003,黄金,,\n"
    )
    preview = upload(admin_client, text)
    result = preview.context["result"]
    assert [r.import_type for r in result.valid_rows()] == ["update", "update", "new"]
    assert "customers-import-summary" in preview.content.decode()
    confirm(admin_client, preview)
    alice = Customer.objects.select_related("user").get(pk=books["mine"].pk)
    assert (alice.name, alice.mobile, alice.level, alice.is_active, alice.user.is_active) == (
        "Alice Renamed",
        "+8613600000001",
        silver,
        False,
        False,
    )
    assert alice.account_manager == books["m2"]
    # Visibility moved with the account manager.
    admin_client.force_login(books["m1"])
    url = reverse("admin:customers_customer_change", args=[alice.pk])
    assert admin_client.get(url).status_code == 404
    admin_client.force_login(books["m2"])
    assert admin_client.get(url).status_code == 200
    assert Customer.objects.get(user__username="fresh").is_active


def test_a_row_with_only_a_mobile_updates_its_customer(admin_client, books):
    amy = books["mine2"]
    preview = upload(admin_client, HEADER + f",Amy by mobile,{amy.mobile},,,\n")
    result = preview.context["result"]
    assert [r.import_type for r in result.valid_rows()] == ["update"]
    assert "amy" in preview.content.decode()
    confirm(admin_client, preview)
    amy.refresh_from_db()
    assert (amy.name, amy.user.username, amy.is_active) == ("Amy by mobile", "amy", True)


def test_usernames_match_regardless_of_case(admin_client, books):
    preview = upload(admin_client, HEADER + "ALICE,Alice Upper,,,,\n")
    assert [r.import_type for r in preview.context["result"].valid_rows()] == ["update"]
    confirm(admin_client, preview)
    alice = Customer.objects.select_related("user").get(pk=books["mine"].pk)
    assert (alice.name, alice.user.username) == ("Alice Upper", "alice")
    duplicate = upload(
        admin_client, HEADER + "x9,X,13700000071,黄金,,1\nX9,Y,13700000072,黄金,,1\n"
    )
    (row,) = duplicate.context["result"].invalid_rows
    assert list(row.field_specific_errors) == ["username"]


def test_a_new_username_with_a_customers_mobile_is_refused(admin_client, books):
    preview = upload(admin_client, HEADER + "someone,S,13912345678,黄金,,1\n")
    (row,) = preview.context["result"].invalid_rows
    assert "bob" in row.field_specific_errors["mobile"][0]


def test_a_row_mixing_two_customers_is_refused(admin_client, books):
    # alice's username with bob's mobile: which one to update is ambiguous.
    preview = upload(admin_client, HEADER + "alice,A,13912345678,黄金,,1\n")
    (row,) = preview.context["result"].invalid_rows
    assert "bob" in row.field_specific_errors["mobile"][0]


def test_staff_usernames_and_unknown_managers_are_refused(admin_client, books):
    preview = upload(admin_client, HEADER + "finance,F,13700000001,黄金,nobody,maybe\n")
    (row,) = preview.context["result"].invalid_rows
    assert set(row.field_specific_errors) == {"username", "account_manager", "active"}


def test_xlsx_import(admin_client, books):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "name", "mobile", "level", "account_manager", "active"])
    sheet.append(["xl1", "表格", 13700000021, "黄金", "manager1", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = upload(admin_client, buffer.getvalue(), name="c.xlsx", fmt="1")
    assert not preview.context["result"].has_validation_errors()
    confirm(admin_client, preview)
    assert Customer.objects.get(user__username="xl1").mobile == "+8613700000021"


def test_chinese_headers_are_understood(admin_client, books):
    text = "用户名,名称,手机号,等级,客户经理,启用\ncn1,中文表头,13700000031,黄金,manager1,是\n"
    preview = upload(admin_client, text)
    assert not preview.context["result"].has_validation_errors()


@pytest.mark.parametrize("role", ["财务", "客户经理", "客服"])
def test_only_administrators_import(client, staff, role):
    client.force_login(staff[role])
    assert upload(client, HEADER + "x1,X,13700000041,黄金,,1\n").status_code == 403
    assert client.post(reverse(PROCESS), {}).status_code == 403
    assert not Customer.objects.filter(user__username="x1").exists()


# -- export ------------------------------------------------------------------------------------

COLUMNS = ("username", "name", "mobile", "level", "account_manager", "active")


def export(client, fmt="0"):
    data = {"format": fmt, **{f"customerresource_{c}": "on" for c in COLUMNS}}
    return client.post(reverse("admin:customers_customer_export"), data)


DANGEROUS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_export_escapes_each_formula_prefix(client, staff, gold, value):
    make_customer(username="evil", name=value, level=gold)
    client.force_login(staff["财务"])
    response = export(client)
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    import csv

    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["evil"]["name"] == "'" + value


@pytest.mark.parametrize("value", DANGEROUS)
def test_xlsx_export_escapes_each_formula_prefix(client, staff, gold, value):
    make_customer(username="evil", name=value, level=gold)
    client.force_login(staff["管理员"])
    response = export(client, fmt="1")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    cell = rows["evil"][1]
    # XML normalises a carriage return to a line feed; what matters is the quote in front.
    assert cell[0] == "'" and cell[2:] == value[1:]
    assert sheet.cell(row=2, column=2).data_type == "s"  # a string, never a formula


def test_export_round_trips_through_import(admin_client, books):
    body = export(admin_client).content.decode("utf-8-sig")
    assert "alice,Alice,138" in body  # mainland mobiles as the 11 digits people type
    preview = upload(admin_client, body)
    result = preview.context["result"]
    assert not result.has_validation_errors()
    assert {r.import_type for r in result.valid_rows()} == {"update"}


@pytest.mark.parametrize("role", ["客户经理", "客服"])
def test_roles_without_export_permission_are_refused(client, staff, role):
    client.force_login(staff[role])
    assert export(client).status_code == 403


def test_a_big_preview_shows_the_first_rows_and_counts_them_all(admin_client, books, monkeypatch):
    import customers.resources

    rows = "".join(f"big{i},客户{i},1370001{i:04d},黄金,,1\n" for i in range(30))
    bad = "".join(f"bad{i},客户{i},123,黄金,,1\n" for i in range(30))
    monkeypatch.setattr(customers.resources, "PREVIEW_ROWS", 10)
    preview = upload(admin_client, HEADER + rows)
    refused = upload(admin_client, HEADER + bad)
    page = preview.content.decode()
    assert page.count('<tr class="new">') == 10
    assert "30" in page.split("customers-import-summary", 1)[1].split("</div>", 1)[0]
    confirm(admin_client, preview)
    assert Customer.objects.filter(user__username__startswith="big").count() == 30
    summary = refused.content.decode().split("customers-import-refused", 1)[1].split("<ul", 1)[0]
    assert "30" in summary
