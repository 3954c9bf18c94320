"""Errors raised by notification services. Messages are constants so tests assert the shown text."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

URL_REQUIRED = _("Enter the address that should receive the notifications.")
URL_TOO_LONG = _("The address may have at most %(max)s characters.")
URL_NOT_VALID = _("Enter a full address such as https://example.com/hooks/orders.")
URL_NEEDS_HTTPS = _("The address must start with https://.")
URL_HAS_CREDENTIALS = _("Do not put a user name or password in the address.")
URL_NOT_RESOLVED = _("The host %(host)s could not be found.")
URL_NOT_PUBLIC = _(
    "The host %(host)s points to %(address)s, a private or local address; "
    "use an address reachable on the internet."
)
THRESHOLD_NOT_VALID = _(
    "Enter an amount such as 100 or 99.50, or leave it empty to turn alerts off."
)
ENDPOINT_INACTIVE = _("Sending is turned off for this callback.")
NO_ENDPOINT = _("Save a callback address first.")
DELIVERY_NOT_FOUND = _("No such delivery.")


class NotificationError(DomainError):
    """A notification rule refused the request."""


class InvalidCallbackUrl(NotificationError):
    """The callback address is malformed, not https, or points at a private address."""


class InvalidThreshold(NotificationError):
    """The low-balance threshold is not an amount."""
