"""RFC 9457 problem details: every error of /api/ answers ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` and a stable machine ``code``, in the request's
language (LocaleMiddleware: zh-hans unless ``Accept-Language`` asks for English).

The NinjaAPI's exception handlers (api/api.py) answer the errors raised inside an operation;
``ProblemDetailsMiddleware`` turns whatever else /api/ answers with an error (Django's 404 for
an unknown path, ninja's 405, a 500) into the same shape, and logs each request with its key.
"""

import json
import logging
import time

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from api.exceptions import METHOD_NOT_ALLOWED, NOT_FOUND, SERVER_ERROR

logger = logging.getLogger("api")

API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
DOCS_PATH = "/api/v1/docs"

TITLES = {
    400: _("Bad request"),
    401: _("Authentication required"),
    402: _("Insufficient balance"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Invalid input"),
    429: _("Too many requests"),
    500: _("Server error"),
}

# The codes a status gets when nothing more specific said one.
DEFAULT_CODES = {
    400: "bad_request",
    401: "invalid_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "server_error",
}


def problem_response(
    *,
    status: int,
    detail,
    code: str | None = None,
    headers: dict | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    """One problem details response."""
    code = code or DEFAULT_CODES.get(status, "error")
    body = {
        "type": f"{DOCS_PATH}#problem-{code}",
        "title": str(TITLES.get(status, TITLES[400 if status < 500 else 500])),
        "status": status,
        "detail": str(detail),
        "code": code,
        **(extra or {}),
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )
    response["Content-Language"] = get_language() or "zh-hans"
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401:
        response.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return response


def _is_problem(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith(PROBLEM_TYPE)


class ProblemDetailsMiddleware:
    """For /api/ only: non-problem error responses become problem details; one log line each."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        started = time.monotonic()
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_problem(response):
            response = self._convert(request, response)
        key = getattr(request, "api_key", None)
        logger.info(
            "api %s %s %s key=%s %.0fms",
            request.method,
            request.path,
            response.status_code,
            f"op_{key.prefix}" if key is not None else "-",
            (time.monotonic() - started) * 1000,
        )
        return response

    def _convert(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 404:
            detail = NOT_FOUND
        elif status == 405:
            new = problem_response(
                status=405, detail=METHOD_NOT_ALLOWED % {"method": request.method}
            )
            new["Allow"] = response.get("Allow", "")
            return new
        elif status >= 500:
            detail = SERVER_ERROR
        else:
            detail = TITLES.get(status, TITLES[400])
        return problem_response(status=status, detail=detail)
