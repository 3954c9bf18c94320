"""Content-Security-Policy: the header production sends, and every page working under it.

The browser test opens every admin page (index, each app, each model's list, add form, one
change form, history and delete confirmation, the custom pages) and every portal page, and
collects what chromium reports as a CSP violation — the `securitypolicyviolation` event and the
"Refused to …" console error. It expects none.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import URLResolver, reverse

from core.testing import admin_login, new_page, screenshot

ROOT = Path(__file__).resolve().parents[1]

# Runs before any script of each page; CDP-injected, so the policy does not apply to it.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked=${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def script_src(policy: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("script-src"))


# --- the header ------------------------------------------------------------------------------

PRODUCTION_SCRIPT = """
import django
django.setup()
from django.test import Client
for path in ("/no-such-page/", "/healthz"):
    response = Client().get(path, secure=True, HTTP_HOST="orders.example.com")
    print(response.status_code, response.headers.get("Content-Security-Policy", "MISSING"))
"""


def test_production_sends_the_policy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-throw-away-secret-used-only-by-this-test-0123456789",
        "DJANGO_ALLOWED_HOSTS": "orders.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    for line in lines:
        status, policy = line.split(" ", 1)
        assert "default-src 'self'" in policy, line
        assert script_src(policy) == "script-src 'self'", line  # no inline, no eval, no host
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_jazzmin_inline_scripts_carry_this_responses_nonce(client):
    response = client.get(reverse("admin:login"))
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", script_src(policy)).group(1)
    tags = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())
    assert tags, "the admin login page has jazzmin's colour-mode script"
    assert tags == [f'<script nonce="{nonce}">'] * len(tags)
    # A new response, a new nonce.
    again = client.get(reverse("admin:login")).headers["Content-Security-Policy"]
    assert nonce not in again


# --- every page in a browser -----------------------------------------------------------------

SKIP_ADMIN_URLS = {
    "logout",  # ends the session
    "view_on_site",
    "autocomplete",
    "jsi18n",
    "password_change_done",
}


class Violations:
    """Everything chromium reports about the policy while a page is open."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(COLLECT_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(f"{self.page.url}: {text}")

    def visit(self, url: str) -> int:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.check()[1] if response is None else self.check(response.status)[1]

    def check(self, status: int = 200) -> tuple[list[str], int]:
        events = self.page.evaluate("window.__cspViolations || []")
        found = [f"{self.page.url}: {event}" for event in events] + self.console
        self.console = []
        assert found == [], "\n".join(found)
        return found, status


def _admin_paths() -> list[str]:
    """Every admin page a superuser can open with GET, filled in with the first object of each model."""
    from django.apps import apps

    first_pk = {}
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        first_pk[f"{model._meta.app_label}_{model._meta.model_name}"] = obj.pk if obj else None
    paths = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            name = pattern.name
            if not name or name in SKIP_ADMIN_URLS or name.endswith(("_process_import", "_export")):
                continue
            params = set(pattern.pattern.regex.groupindex)
            if name == "app_list":
                labels = {m._meta.app_label for m in admin.site._registry}
                paths.extend(reverse("admin:app_list", args=[label]) for label in sorted(labels))
            elif not params:
                paths.append(reverse(f"admin:{name}"))
            elif params <= {"object_id", "id"}:
                key = next((k for k in first_pk if name.startswith(k + "_")), None)
                if key and first_pk[key] is not None:
                    kwargs = {params.pop(): first_pk[key]}
                    paths.append(reverse(f"admin:{name}", kwargs=kwargs))

    walk(admin.site.get_urls())
    assert apps.is_installed("jazzmin")
    return paths


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_admin_and_portal_page_runs_under_the_policy(browser, live_server):
    import importlib

    from django.core.management import call_command

    from demo.management.commands.load_demo import LOADERS

    call_command("sync_roles", verbosity=0)
    for path in LOADERS:
        importlib.import_module(path).load(None)
    base = live_server.url

    # --- the admin -----------------------------------------------------------------------------
    page = new_page(browser, live_server, timeout_ms=30_000)
    violations = Violations(page)
    violations.visit(f"{base}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-password")  # an error page, and an axes row to list
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    violations.check()
    admin_login(page, live_server, "admin", "admin-demo-2026")
    violations.check()
    statuses = {}
    for path in _admin_paths():
        statuses[path] = violations.visit(base + path)
    assert not [p for p, s in statuses.items() if s >= 500], statuses
    visited = set(statuses)
    for must in [
        "/admin/",
        reverse("admin:orders_order_place"),
        reverse("admin:customers_customer_import"),
        reverse("admin:customers_customer_add"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:wallet_entry_changelist"),
    ]:
        assert must in visited, must
    assert any("/change/" in p for p in visited) and any("/recharge/" in p for p in visited)
    # The change list's filters and actions run their scripts: choose an action, see the count.
    page.goto(base + reverse("admin:customers_customer_changelist"))
    page.locator("#result_list tbody input.action-select").first.check()
    page.wait_for_selector(".action-counter")
    violations.check()
    screenshot(page, "csp-admin-customers")
    page.context.close()

    # --- the portal ----------------------------------------------------------------------------
    page = new_page(browser, live_server, timeout_ms=30_000)
    violations = Violations(page)
    violations.visit(f"{base}/portal/login/")
    page.click("#tab-sms")  # login.js switches the form
    violations.check()
    page.click("#tab-password")
    page.fill("#password-login-form input[name=identifier]", "demo")
    page.fill("#password-login-form input[name=password]", "customer-demo-2026")
    page.locator("#password-login-form button[type=submit]").click()
    page.wait_for_url(f"{base}/portal/")
    violations.check()
    for name in ["portal:order_list", "portal:transaction_list", "portal:password_change"]:
        assert violations.visit(base + reverse(name)) == 200, name
    violations.visit(base + reverse("portal:order_new"))
    page.select_option("#id_service", label="视频播放量")  # quote.js fetches the live price
    page.fill("#id_target", "https://shop.example/item/1")
    page.locator("#id_quantity").press_sequentially("5000", delay=30)
    # (Not page.wait_for_function: it evaluates a string, which this policy rightly refuses.)
    expect(page.locator("#quote-amount")).to_contain_text(re.compile(r"\d"))
    violations.check()
    page.click("#review-button")
    page.wait_for_selector("#confirm-summary")
    violations.check()
    page.click("#confirm-button")
    page.wait_for_selector("#timeline")
    violations.check()
    page.click("#cancel-link")
    page.wait_for_selector("#confirm-cancel-button")
    violations.check()
    screenshot(page, "csp-portal-cancel")
    # The language menu switches on change (portal/language.js, no inline handler).
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    violations.check()
    page.context.close()
