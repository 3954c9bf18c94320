"""Branded error pages (400, 403, 404, 500, CSRF failure) in the user's language.

Each page is drawn by the template of the part of the site it happened in, chosen by the
first segment of the path: ``/admin/…`` → ``errors/admin.html``, ``/portal/…`` →
``errors/portal.html``, anything else → ``errors/default.html``. So core names no app: the
project's ``templates/errors/`` says what each area looks like. Hooked up by ``handler400`` …
in ``config/urls.py`` and by ``CSRF_FAILURE_VIEW``.

The 500 page is rendered without the request's context processors: it must not need the
database, the session or the user, whatever broke.
"""

import logging
import re

from django.http import HttpResponse
from django.template import loader
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)
AREA = re.compile(r"^/([a-z][a-z0-9_-]*)/")

PAGES = {
    400: (_("Bad request"), _("The request could not be understood. Check what you sent.")),
    403: (_("Permission denied"), _("You do not have permission to see this page.")),
    404: (_("Page not found"), _("The page you asked for does not exist or has been moved.")),
    500: (
        _("Server error"),
        _("Something went wrong on our side and it has been recorded. Please try again shortly."),
    ),
}
BARE_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><h1>{title}</h1><p>{message}</p><p><a href="/">⌂</a></p></body></html>'
)
CSRF_TITLE = _("This form has expired")
CSRF_MESSAGE = _(
    "For your security, a form is accepted only from a page you opened recently in this "
    "browser, with cookies allowed. Go back, reload the page and send the form again."
)


def error_templates(path: str) -> list[str]:
    """The templates to try for an error at ``path``: its area's, then the default."""
    match = AREA.match(path)
    names = [f"errors/{match.group(1)}.html"] if match else []
    return [*names, "errors/default.html"]


def _back_url(request) -> str:
    """Where the user came from, if that is this site and not this very page."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        if not referer.endswith(request.get_full_path()):
            return referer
    return ""


def _render(request, status: int, title, message, *, with_request: bool = True) -> HttpResponse:
    """The area's error page; if even that cannot be drawn (a missing static manifest breaks
    every ``{% static %}``), a bare page with the same words and status: an error handler that
    raises would turn a 404 into a 500 and leave the server's own page in English.
    """
    context = {"status": status, "title": title, "message": message, "error_page": True}
    try:
        template = loader.select_template(error_templates(request.path))
        if with_request:
            context["back_url"] = _back_url(request)
            body = template.render(context, request)
        else:
            body = template.render(context)
    except Exception:  # noqa: BLE001 - whatever broke the site may break its templates too
        logger.exception("Error page %s could not be rendered; sent the bare page", status)
        body = format_html(BARE_PAGE, title=str(title), message=str(message))
    return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    """400."""
    return _render(request, 400, *PAGES[400])


@requires_csrf_token
def permission_denied(request, exception=None):
    """403."""
    return _render(request, 403, *PAGES[403])


@requires_csrf_token
def page_not_found(request, exception=None):
    """404."""
    return _render(request, 404, *PAGES[404])


def server_error(request):
    """500, rendered without the request context (no session, user or database needed)."""
    return _render(request, 500, *PAGES[500], with_request=False)


@requires_csrf_token
def csrf_failure(request, reason=""):
    """A refused POST (CSRF_FAILURE_VIEW): what to do, in words, never a DEBUG hint.

    Django has already logged the reason (logger ``django.security.csrf``).
    """
    return _render(request, 403, CSRF_TITLE, CSRF_MESSAGE)
