"""The customer import as background jobs: bad files, confirm twice, who may see a job."""

import io

import pytest
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from customers.resources import COLUMNS, HEADER_ALIASES
from customers.tests.test_import_export import HEADER, Preview, confirm, run_jobs, upload
from jobs.models import Job

pytestmark = pytest.mark.django_db

GOOD = HEADER + "j1,甲,13700000101,黄金,,1\nj2,乙,13700000102,黄金,,1\n"


@pytest.fixture
def admin_client(client, staff, gold):
    client.force_login(staff["管理员"])
    return client


def refused(preview: Preview) -> str:
    """The form's error on the upload page (the file never reached a job)."""
    assert preview.status_code == 200 and preview.job is None
    page = preview.response.content.decode()
    assert "customers-import-refused" in page
    return page.split("customers-import-refused", 1)[1].split("</div>", 1)[0]


def assert_nothing_written():
    assert not Customer.objects.filter(user__username__startswith="j").exists()
    assert not Job.objects.filter(kind="import.write").exists()


def test_confirmed_twice_imports_once(admin_client):
    preview = upload(admin_client, GOOD)
    first = admin_client.post(reverse("admin:jobs_job_confirm", args=[preview.job.pk]))
    second = admin_client.post(reverse("admin:jobs_job_confirm", args=[preview.job.pk]))
    assert first["Location"] == second["Location"]  # the same write job
    run_jobs()
    confirm(admin_client, preview)  # and once more after it ran
    assert Job.objects.filter(kind="import.write").count() == 1
    assert Customer.objects.filter(user__username__in=["j1", "j2"]).count() == 2
    assert preview.status()["follow_up_url"]


def test_an_owner_who_lost_the_import_permission_cannot_confirm(admin_client, staff):
    preview = upload(admin_client, GOOD)
    staff["管理员"].groups.clear()
    response = admin_client.post(reverse("admin:jobs_job_confirm", args=[preview.job.pk]))
    assert response.status_code == 403
    run_jobs()
    assert_nothing_written()


def test_an_empty_file_is_refused(admin_client):
    with translation.override("zh-hans"):
        assert "空" in refused(upload(admin_client, HEADER))
        page = upload(admin_client, "").response.content.decode()
        assert "errorlist" in page  # Django: the submitted file is empty
    assert_nothing_written()


def test_wrong_columns_are_named(admin_client):
    message = refused(upload(admin_client, "user,phone\nj1,13700000101\n"))
    assert "user" in message and "phone" in message and "username" in message
    assert_nothing_written()


def test_gbk_without_saying_so_names_the_encoding_and_gbk_when_chosen_works(admin_client):
    data = (HEADER + "j1,张三有限公司,13700000101,黄金,,1\n" * 1).encode("gbk")
    message = refused(upload(admin_client, data))
    assert "UTF-8" in message and "GB" in message
    assert_nothing_written()
    preview = upload(admin_client, data, encoding="gbk")
    assert preview.result["new"] == 1
    confirm(admin_client, preview)
    assert Customer.objects.get(user__username="j1").name == "张三有限公司"


def test_a_30_mb_file_is_over_the_limit(admin_client):
    big = HEADER.encode() + b"j1,x,13700000101,\xe9\xbb\x84\xe9\x87\x91,,1\n" * (
        30 * 1024 * 1024 // 40
    )
    message = refused(upload(admin_client, big))
    assert "20" in message and "MB" in message
    assert_nothing_written()


def test_formula_cells_are_refused_by_row_and_column(admin_client):
    text = HEADER + 'j1,=HYPERLINK("x"),13700000101,黄金,,1\nj2,@SUM(A1),13700000102,黄金,,1\n'
    preview = upload(admin_client, text)
    assert set(preview.errors) == {1, 2}
    assert "name" in preview.errors[1] and "name" in preview.errors[2]
    assert not preview.status()["confirm_url"]
    # +86… mobiles and a leading quote (our own export's escape) are data, not formulas.
    ok = upload(admin_client, HEADER + "j3,'=x,+8613700000103,黄金,,1\n")
    assert ok.result["invalid"] == 0, ok.result
    assert_nothing_written()


def test_duplicate_rows_are_refused(admin_client):
    text = HEADER + "j1,甲,13700000101,黄金,,1\nj1,甲,13700000101,黄金,,1\n"
    preview = upload(admin_client, text)
    assert set(preview.errors[2]) == {"username", "mobile"}
    assert_nothing_written()


def test_other_staff_cannot_see_or_download_a_job(client, staff, gold):
    client.force_login(staff["管理员"])
    preview = upload(client, GOOD)
    job = preview.job
    Job.objects.filter(pk=job.pk).update(output_file=job.input_file)  # something to download
    urls = [
        reverse(name, args=[job.pk])
        for name in ("admin:jobs_job_page", "admin:jobs_job_status", "admin:jobs_job_download")
    ]
    assert all(client.get(url).status_code == 200 for url in urls)
    for other in ("财务", "客服", "客户经理"):
        client.force_login(staff[other])
        assert [client.get(url).status_code for url in urls] == [403, 403, 403]
        assert client.post(reverse("admin:jobs_job_confirm", args=[job.pk])).status_code == 403
        assert client.post(reverse("admin:jobs_job_cancel", args=[job.pk])).status_code == 403
        listed = client.get(reverse("admin:jobs_job_changelist"))
        assert listed.status_code == 200 and job not in listed.context["cl"].result_list
    client.force_login(staff["superuser"])
    assert all(client.get(url).status_code == 200 for url in urls)
    assert job in client.get(reverse("admin:jobs_job_changelist")).context["cl"].result_list
    assert_nothing_written()


def test_a_queued_job_is_cancelled(admin_client):
    data = io.BytesIO(GOOD.encode())
    data.name = "c.csv"
    response = admin_client.post(
        reverse("admin:customers_customer_import"), {"file": data, "encoding": "utf-8"}
    )
    job = Job.objects.get()
    assert response["Location"].endswith(f"/{job.pk}/")
    admin_client.post(reverse("admin:jobs_job_cancel", args=[job.pk]))
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled"


# -- exports ---------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_csv_export_opens_in_excel_with_chinese_headers_and_text_mobiles(client, staff, books):
    import csv

    client.force_login(staff["财务"])
    response = client.get(
        reverse("admin:customers_customer_export"),
        {"format": "csv"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    raw = _body(response)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    # Chinese headers, each one the import reads back.
    assert [HEADER_ALIASES[h] for h in rows[0]] == [*COLUMNS, "created_at"]
    alice = next(row for row in rows if row[0] == "alice")
    assert alice[2].startswith("\t138") and alice[5] == "1"


def test_the_xlsx_export_has_text_mobiles_and_numbers(client, staff, books):
    import openpyxl

    client.force_login(staff["财务"])
    response = client.get(
        reverse("admin:customers_customer_export"), {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("username", "name", "mobile")
    alice = next(row for row in rows if row[0] == "alice")
    assert isinstance(alice[2], str) and alice[2].startswith("138") and alice[5] == 1


def test_a_big_filtered_export_runs_as_a_job_only_its_owner_downloads(
    client, staff, books, settings
):
    import csv

    settings.JOBS_EXPORT_STREAM_ROWS = 1
    client.force_login(staff["财务"])
    m1 = books["m1"].pk
    response = client.get(
        reverse("admin:customers_customer_export"),
        {"format": "csv", "account_manager__id__exact": m1},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    job = Job.objects.get(kind="export")
    assert response["Location"] == reverse("admin:jobs_job_page", args=[job.pk])
    run_jobs()
    job.refresh_from_db()
    assert job.state == "done" and job.result["rows"] == 2, (job.error, job.result)
    url = reverse("admin:jobs_job_download", args=[job.pk])
    raw = _body(client.get(url))
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {row["username"] for row in rows} == {"alice", "amy"}  # manager1's only
    client.force_login(staff["管理员"])
    assert client.get(url).status_code == 403
