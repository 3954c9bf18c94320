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
from jobs.models import Job
from jobs.runner import run_next

pytestmark = pytest.mark.django_db

HEADER = "username,name,mobile,level,account_manager,active\n"
IMPORT = "admin:customers_customer_import"
PROCESS = "admin:customers_customer_process_import"


class Preview:
    """What the job page shows after the check job ran (a dry run)."""

    def __init__(self, client, response):
        self.client = client
        self.response = response
        self.status_code = response.status_code
        self.job = None
        if response.status_code == 302 and "/jobs/job/" in response["Location"]:
            self.job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
            run_jobs()
            self.job.refresh_from_db()
        self.result = self.job.result if self.job else {}
        self.errors: dict[int, dict[str, list[str]]] = {}
        for error in self.result.get("errors", []):
            self.errors.setdefault(error["row"], {}).setdefault(error["column"], []).append(
                error["message"]
            )

    def status(self) -> dict:
        return self.client.get(reverse("admin:jobs_job_status", args=[self.job.pk])).json()


def run_jobs():
    while run_next(worker="test-runner"):
        pass


def upload(client, text, *, name="customers.csv", encoding="utf-8") -> Preview:
    """Step 1: upload the file; a job checks every row (run here at once)."""
    data = io.BytesIO(text.encode("utf-8")) if isinstance(text, str) else io.BytesIO(text)
    data.name = name
    return Preview(client, client.post(reverse(IMPORT), {"file": data, "encoding": encoding}))


def confirm(client, preview: Preview):
    """Step 2: confirm the checked file; the write job runs."""
    response = client.post(reverse("admin:jobs_job_confirm", args=[preview.job.pk]))
    run_jobs()
    return response


@pytest.fixture
def admin_client(client, staff, gold, silver):
    client.force_login(staff["管理员"])
    return client


def test_a_good_file_is_checked_then_imports(admin_client, books, gold):
    rows = "".join(f"new{i},客户{i},1370000{i:04d},黄金,manager1,1\n" for i in range(1000))
    preview = upload(admin_client, HEADER + rows)
    assert preview.job.state == "done"
    assert preview.result == {"rows": 1000, "new": 1000, "update": 0, "invalid": 0, "errors": []}
    status = preview.status()
    assert status["percent"] == 100 and status["confirm_url"]
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
    errors = preview.errors
    assert set(errors) == {2, 3, 4}
    assert list(errors[2]) == ["level"] and "钻石" in errors[2]["level"][0]
    assert list(errors[3]) == ["mobile"]
    with translation.override("zh-hans"):  # the job speaks the project's language
        expected = str(DUPLICATE_IN_FILE % {"value": "+8613700000001", "row": 1})
    assert errors[4] == {"mobile": [expected]}
    assert preview.result["invalid"] == 3
    assert not preview.status()["confirm_url"]  # nothing to confirm
    refused = admin_client.post(reverse("admin:jobs_job_confirm", args=[preview.job.pk]))
    assert refused.status_code == 302
    run_jobs()
    assert Customer.objects.count() == before
    assert not get_user_model().objects.filter(username__in=["ok1", "ok2"]).exists()


def test_confirming_a_file_that_became_invalid_writes_nothing(admin_client, books):
    preview = upload(admin_client, HEADER + "late1,晚到,13700000009,黄金,,1\n")
    make_customer(username="racer", mobile="13700000009")  # takes the mobile meanwhile
    confirm(admin_client, preview)
    assert not get_user_model().objects.filter(username="late1").exists()
    write = Job.objects.get(kind="import.write")
    assert write.state == "failed" and "1" in write.error


def test_existing_customers_are_updated_and_the_check_says_so(admin_client, books, silver):
    text = HEADER + (
        # by username: new name, new mobile, new level, handed to manager2, deactivated
        "alice,Alice Renamed,13600000001,白银,manager2,0\n"
        # by mobile (bob's), same username
        "bob,Bob B,13912345678,白银,manager2,1\n"
        "fresh,新人,13600000003,黄金,,\n"
    )
    preview = upload(admin_client, text)
    assert (preview.result["update"], preview.result["new"]) == (2, 1)
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
    assert preview.result["update"] == 1
    confirm(admin_client, preview)
    amy.refresh_from_db()
    assert (amy.name, amy.user.username, amy.is_active) == ("Amy by mobile", "amy", True)


def test_usernames_match_regardless_of_case(admin_client, books):
    preview = upload(admin_client, HEADER + "ALICE,Alice Upper,,,,\n")
    assert preview.result["update"] == 1
    confirm(admin_client, preview)
    alice = Customer.objects.select_related("user").get(pk=books["mine"].pk)
    assert (alice.name, alice.user.username) == ("Alice Upper", "alice")
    duplicate = upload(
        admin_client, HEADER + "x9,X,13700000071,黄金,,1\nX9,Y,13700000072,黄金,,1\n"
    )
    assert list(duplicate.errors) == [2] and list(duplicate.errors[2]) == ["username"]


def test_a_new_username_with_a_customers_mobile_is_refused(admin_client, books):
    preview = upload(admin_client, HEADER + "someone,S,13912345678,黄金,,1\n")
    assert "bob" in preview.errors[1]["mobile"][0]


def test_a_row_mixing_two_customers_is_refused(admin_client, books):
    # alice's username with bob's mobile: which one to update is ambiguous.
    preview = upload(admin_client, HEADER + "alice,A,13912345678,黄金,,1\n")
    assert "bob" in preview.errors[1]["mobile"][0]


def test_staff_usernames_and_unknown_managers_are_refused(admin_client, books):
    preview = upload(admin_client, HEADER + "finance,F,13700000001,黄金,nobody,maybe\n")
    assert set(preview.errors[1]) == {"username", "account_manager", "active"}


def test_xlsx_import(admin_client, books):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "name", "mobile", "level", "account_manager", "active"])
    sheet.append(["xl1", "表格", 13700000021, "黄金", "manager1", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = upload(admin_client, buffer.getvalue(), name="c.xlsx")
    assert preview.result["invalid"] == 0, preview.result
    confirm(admin_client, preview)
    assert Customer.objects.get(user__username="xl1").mobile == "+8613700000021"


def test_chinese_headers_are_understood(admin_client, books):
    text = "用户名,名称,手机号,等级,客户经理,启用\ncn1,中文表头,13700000031,黄金,manager1,是\n"
    preview = upload(admin_client, text)
    assert preview.result["invalid"] == 0 and preview.result["new"] == 1


@pytest.mark.parametrize("role", ["财务", "客户经理", "客服"])
def test_only_administrators_import(client, staff, role):
    client.force_login(staff[role])
    assert upload(client, HEADER + "x1,X,13700000041,黄金,,1\n").status_code == 403
    assert client.post(reverse(PROCESS), {}).status_code in (403, 404)
    assert not Job.objects.exists()
    assert not Customer.objects.filter(user__username="x1").exists()


# -- export ------------------------------------------------------------------------------------

COLUMNS = ("username", "name", "mobile", "level", "account_manager", "active")


def export(client, fmt="0", language="en"):
    fmt = {"0": "csv", "1": "xlsx"}.get(fmt, fmt)
    return client.get(
        reverse("admin:customers_customer_export"),
        {"format": fmt},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


DANGEROUS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_export_escapes_each_formula_prefix(client, staff, gold, value):
    make_customer(username="evil", name=value, level=gold)
    client.force_login(staff["财务"])
    response = export(client)
    assert response.status_code == 200
    body = body_of(response).decode("utf-8-sig")
    import csv

    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["evil"]["name"] == "'" + value


@pytest.mark.parametrize("value", DANGEROUS)
def test_xlsx_export_escapes_each_formula_prefix(client, staff, gold, value):
    make_customer(username="evil", name=value, level=gold)
    client.force_login(staff["管理员"])
    response = export(client, fmt="1")
    sheet = openpyxl.load_workbook(io.BytesIO(body_of(response))).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    cell = rows["evil"][1]
    # XML normalises a carriage return to a line feed; what matters is the quote in front.
    assert cell[0] == "'" and cell[2:] == value[1:]
    assert sheet.cell(row=2, column=2).data_type == "s"  # a string, never a formula


def test_export_round_trips_through_import(admin_client, books):
    body = body_of(export(admin_client)).decode("utf-8-sig")
    assert "alice,Alice,\t138" in body  # mainland mobiles: 11 digits, kept text by a tab
    preview = upload(admin_client, body)
    assert preview.result["invalid"] == 0 and preview.result["new"] == 0


@pytest.mark.parametrize("role", ["客户经理", "客服"])
def test_roles_without_export_permission_are_refused(client, staff, role):
    client.force_login(staff[role])
    assert export(client).status_code == 403
