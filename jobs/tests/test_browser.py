"""The job page in Debian's chromium: English and Chinese, desktop and phone."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from core.testing import logged_in_page, screenshot
from jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "size", "refused", "running"),
    [
        ("en", "desktop", "Nothing was written", "of 100,000 rows"),
        ("zh-hans", "phone", "未写入任何数据", "100,000 行"),
    ],
)
def test_the_job_page_shows_a_refused_check_and_a_moving_job(
    browser, live_server, language, size, refused, running
):
    owner = get_user_model().objects.create_user("pageowner", is_staff=True, is_superuser=True)
    errors = [
        {"row": 2, "column": "level", "message": "There is no level named 钻石."},
        {"row": 3, "column": "mobile", "message": "Enter a valid mobile number."},
    ]
    checked = Job.objects.create(
        owner=owner,
        kind="import.check",
        title="Check customers.csv",
        state="done",
        rows_total=4,
        rows_done=4,
        finished_at=timezone.now(),
        result={"rows": 4, "new": 2, "update": 0, "invalid": 2, "errors": errors},
    )
    moving = Job.objects.create(
        owner=owner,
        kind="export",
        title="Export orders (CSV)",
        state="running",
        rows_total=100_000,
        rows_done=40_000,
        started_at=timezone.now() - timezone.timedelta(seconds=8),
        lease_owner="agent",
    )
    page = logged_in_page(browser, live_server, owner, size=size, language=language)
    page.goto(f"{live_server.url}/admin/jobs/job/{checked.pk}/")
    expect(page.locator("#job-errors tbody tr")).to_have_count(2)
    expect(page.locator("#job-errors-title")).to_contain_text(refused)
    expect(page.locator("#job-confirm")).to_be_hidden()
    screenshot(page, f"jobs-refused-{language}-{size}")
    page.goto(f"{live_server.url}/admin/jobs/job/{moving.pk}/")
    expect(page.locator("#job-bar")).to_have_text("40 %")
    expect(page.locator("#job-rows")).to_contain_text(running)
    expect(page.locator("#job-eta")).not_to_be_empty()
    expect(page.locator("#job-cancel")).to_be_visible()
    Job.objects.filter(pk=moving.pk).update(
        rows_done=100_000, state="done", result={"rows": 100_000}
    )
    expect(page.locator("#job-bar")).to_have_text("100 %", timeout=10_000)
    screenshot(page, f"jobs-done-{language}-{size}")
