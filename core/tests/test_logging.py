"""Logs a person can read: every line once, and no traceback for an ordinary 403."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Under the local settings (DEBUG, as `make run` serves): a 404, a 403 raised in a view, a 500.
SCRIPT = """
import sys
import django
django.setup()
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import Client, RequestFactory

def step(name):
    print(f"---- {name}", file=sys.stderr, flush=True)

step("404")
Client(HTTP_HOST="127.0.0.1").get("/no-such-page/")
step("403")
try:
    raise PermissionDenied
except PermissionDenied as exc:
    response_for_exception(RequestFactory().get("/admin/forbidden/"), exc)
step("500")
try:
    raise ZeroDivisionError("boom")
except ZeroDivisionError as exc:
    response_for_exception(RequestFactory().get("/admin/broken/"), exc)
step("end")
"""


def _run() -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "LOG_LEVEL": "INFO"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    sections, name = {}, None
    for line in result.stderr.splitlines():
        if line.startswith("---- "):
            name = line.removeprefix("---- ")
            sections[name] = ""
        elif name:
            sections[name] += line + "\n"
    return sections


def test_each_line_once_and_no_traceback_for_a_403_but_one_for_a_500():
    out = _run()
    assert out["404"].count("Not Found: /no-such-page/") == 1, out["404"]
    assert out["404"].count("\n") == 1, out["404"]
    assert out["403"].count("Forbidden (Permission denied): /admin/forbidden/") == 1, out["403"]
    assert out["403"].count("\n") == 1, out["403"]  # one line: no traceback
    assert "WARNING django.request" in out["403"]
    # A server error keeps its traceback (and is printed once).
    assert out["500"].count("Internal Server Error: /admin/broken/") == 1, out["500"]
    assert out["500"].count("Traceback (most recent call last)") == 1, out["500"]
    assert "ZeroDivisionError: boom" in out["500"]
