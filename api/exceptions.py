"""API errors. Each carries the HTTP status and a stable machine ``code`` (RFC 9457 problem
details, api/problems.py); messages are gettext_lazy constants, shown in the request's language.
"""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

KEY_MISSING = _(
    "Send your API key in the Authorization header (Authorization: Bearer <key>) "
    "or in the X-API-Key header."
)
KEY_IN_QUERY = _(
    "API keys are never accepted in the URL, where logs and browser history keep them. "
    "Send the key in the Authorization header, and revoke the key you put in a URL."
)
KEY_INVALID = _("This API key is not valid.")
KEY_REVOKED = _("This API key was revoked.")
KEY_CUSTOMER_INACTIVE = _("The account this API key belongs to is deactivated.")
KEY_IP_NOT_ALLOWED = _("This API key may not be used from the address %(ip)s.")
RATE_LIMITED = _("Too many requests with this API key; try again in %(seconds)s seconds.")
NOT_FOUND = _("Nothing was found at this address.")
ORDER_NOT_FOUND = _("There is no order %(number)s.")
METHOD_NOT_ALLOWED = _("The method %(method)s is not allowed here.")
SERVER_ERROR = _("Something went wrong on our side; nothing you can fix. Try again later.")
CLIENT_ORDER_ID_CONFLICT = _(
    "client_order_id %(client_order_id)s was already used for a different order (%(number)s); "
    "nothing was placed."
)
INVALID_CURSOR = _("The cursor is not one this API returned.")
INVALID_INPUT = _("The request is not valid: %(errors)s")
NOT_JSON = _("Send the request body as JSON (Content-Type: application/json).")
IP_ALLOWLIST_INVALID = _("%(entry)s is not an IP address or network.")
IP_ALLOWLIST_TOO_LONG = _("At most %(max)s addresses or networks.")
LABEL_REQUIRED = _("Enter a label for the key.")
TOO_MANY_KEYS = _("You have %(max)s active keys, the most allowed; revoke one first.")
KEY_ALREADY_REVOKED = _("This API key was already revoked.")


class ApiError(DomainError):
    """An error answered as problem details with ``status`` and ``code``."""

    status = 400
    code = "bad_request"

    def __init__(self, message="", *, status=None, code=None, headers=None, extra=None, **params):
        super().__init__(message, **params)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.extra = extra or {}


class ApiKeyInvalid(ApiError):
    """The key is missing, malformed, unknown, revoked, or its customer is deactivated."""

    status = 401
    code = "invalid_key"


class ApiKeyForbidden(ApiError):
    """A valid key used from an address its allowlist does not name."""

    status = 403
    code = "ip_not_allowed"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class ApiKeyError(DomainError):
    """Creating or revoking a key was refused (portal and admin forms)."""
