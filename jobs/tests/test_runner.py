"""The runner: claim, lease, takeover after a SIGKILL, completion exactly once, cleanup."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Job
from jobs.registry import register_kind
from jobs.runner import JobContext, LeaseLost, job_claim, run_next
from jobs.services import job_create, jobs_cleanup
from jobs.storage import job_storage, save_job_file


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("jobowner", password="x", is_staff=True)


def _echo(ctx):
    ctx.set_total(3)
    ctx.advance(3)
    return {"ok": True}


register_kind("test.echo", _echo)


def test_a_job_runs_once_to_done(owner):
    job, created = job_create(owner=owner, kind="test.echo")
    assert created
    assert run_next(worker="w1").pk == job.pk
    assert run_next(worker="w1") is None
    job.refresh_from_db()
    assert (job.state, job.result, job.rows_done, job.attempts) == ("done", {"ok": True}, 3, 1)


def test_the_same_dedupe_key_gives_the_same_job(owner):
    first, _ = job_create(owner=owner, kind="test.echo", dedupe_key="k")
    second, created = job_create(owner=owner, kind="test.echo", dedupe_key="k")
    assert first.pk == second.pk and not created


def test_a_running_job_is_not_claimed_until_its_lease_expires(owner):
    job, _ = job_create(owner=owner, kind="test.echo")
    claimed = job_claim(worker="w1")
    assert claimed.pk == job.pk and claimed.lease_owner == "w1"
    assert job_claim(worker="w2") is None
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = job_claim(worker="w2")
    assert taken.pk == job.pk and taken.lease_owner == "w2" and taken.attempts == 2
    # The first worker can no longer complete it (compare-and-set on the lease holder).
    with pytest.raises(LeaseLost), transaction.atomic():
        JobContext(claimed, "w1").complete({"late": True})
    JobContext(taken, "w2").complete({"ok": True})
    job.refresh_from_db()
    assert job.state == "done" and job.result == {"ok": True}


def test_a_job_that_keeps_dying_is_given_up(owner, settings):
    settings.JOBS_MAX_ATTEMPTS = 2
    job, _ = job_create(owner=owner, kind="test.echo")
    Job.objects.filter(pk=job.pk).update(
        state="running", attempts=2, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert job_claim(worker="w") is None
    job.refresh_from_db()
    assert job.state == "failed" and "2" in job.error


def test_an_unknown_kind_fails_with_a_message(owner):
    job, _ = job_create(owner=owner, kind="nope")
    run_next(worker="w")
    job.refresh_from_db()
    assert job.state == "failed" and job.error


def test_old_jobs_and_their_files_are_cleaned_up(owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = save_job_file(owner_id=owner.pk, name="out.csv", content=ContentFile(b"x"))
    old, _ = job_create(owner=owner, kind="test.echo")
    recent, _ = job_create(owner=owner, kind="test.echo")
    Job.objects.filter(pk=old.pk).update(
        state="done", output_file=path, finished_at=timezone.now() - timedelta(days=8)
    )
    Job.objects.filter(pk=recent.pk).update(state="done", finished_at=timezone.now())
    assert jobs_cleanup() == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not job_storage().exists(path)


# -- a worker SIGKILLed in the middle of an import ------------------------------------------

CHILD = """
import sys, threading, time
import django
django.setup()
from django.conf import settings
settings.JOBS_LEASE_SECONDS = 2
settings.JOBS_HEARTBEAT_SECONDS = 0.3
settings.JOBS_POLL_SECONDS = 0.2
import customers.resources as resources
slow = resources.CustomerResource._parse
def crawl(self, *args, **kwargs):
    time.sleep(0.01)
    return slow(self, *args, **kwargs)
resources.CustomerResource._parse = crawl
from jobs.runner import run_jobs
run_jobs(threading.Event())
"""

ROWS = 800


def _child_env() -> dict:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    scheme, port = {"mysql": ("mysql", 3306), "postgresql": ("postgres", 5432)}[connection.vendor]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"{scheme}://{auth}@{db['HOST']}:{db['PORT'] or port}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


def _wait(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.concurrent_db
@pytest.mark.django_db(transaction=True)
def test_a_sigkilled_worker_s_import_is_taken_over_and_written_exactly_once(tmp_path, settings):
    from django.core.management import call_command

    from customers.models import Customer, Level
    from jobs.imports import import_confirm, import_start

    settings.MEDIA_ROOT = tmp_path
    call_command("sync_roles", verbosity=0)
    owner = get_user_model().objects.create_user("importer", is_staff=True, is_superuser=True)
    Level.objects.create(name="黄金", discount_percent=90)
    text = "username,name,mobile,level,account_manager,active\n" + "".join(
        f"kill{i},客户{i},1370002{i:04d},黄金,,1\n" for i in range(ROWS)
    )
    upload = ContentFile(text.encode(), name="kill.csv")
    check = import_start(
        owner=owner,
        upload=upload,
        encoding="utf-8",
        resource="customers.resources.CustomerResource",
        name="kill.csv",
    )
    run_next(worker="checker")
    check.refresh_from_db()
    assert check.state == "done" and check.result["new"] == ROWS
    write = import_confirm(check=check)

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=settings.BASE_DIR,
        env=_child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        running = _wait(
            lambda: Job.objects.filter(pk=write.pk, state="running", rows_done__gt=0).first(),
            what="the child to claim the job and report progress",
        )
        time.sleep(2.5)  # past the 2 s lease: only the heartbeat keeps it
        extended = Job.objects.get(pk=write.pk)
        assert extended.state == "running" and extended.lease_owner == running.lease_owner
        assert extended.lease_expires_at > running.lease_expires_at
        assert extended.rows_done > running.rows_done  # the bar moves while the write runs
        assert Customer.objects.filter(user__username__startswith="kill").count() == 0
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    output = child.stdout.read()
    assert child.returncode == -signal.SIGKILL, output

    assert run_next(worker="early") is None  # nobody takes it before the lease runs out
    _wait(
        lambda: Job.objects.get(pk=write.pk).lease_expires_at < timezone.now(),
        what="the lease to expire",
    )
    assert run_next(worker="rescuer").pk == write.pk
    write.refresh_from_db()
    assert (write.state, write.lease_owner, write.attempts) == ("done", "rescuer", 2)
    assert write.result["new"] == ROWS
    assert Customer.objects.filter(user__username__startswith="kill").count() == ROWS
    assert run_next(worker="again") is None
    assert import_confirm(check=check).pk == write.pk  # confirming again changes nothing
    assert run_next(worker="again") is None
    assert Customer.objects.filter(user__username__startswith="kill").count() == ROWS
