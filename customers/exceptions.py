"""Errors raised by customer services. Messages are constants so tests assert the shown text."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

INVALID_MOBILE = _("Enter a valid mobile number: 11 digits for mainland China, or +country code.")
MOBILE_TAKEN = _("Another customer already uses the mobile number %(mobile)s.")
USERNAME_TAKEN = _("The username %(username)s is already taken.")
NOT_A_STAFF_USER = _("The account manager must be an active staff user.")
LEVEL_IN_USE = _("The level %(level)s is held by %(count)s customer(s) and cannot be deleted.")
LEVEL_INACTIVE = _("The level %(level)s is not active.")


class CustomerError(DomainError):
    """A customer rule refused the request."""


class InvalidMobile(CustomerError):
    """The mobile number cannot be parsed as a phone number."""


class DuplicateCustomer(CustomerError):
    """The username or mobile belongs to another customer."""


class InvalidAccountManager(CustomerError):
    """The chosen account manager is not an active staff user."""


class LevelInUse(CustomerError):
    """A level cannot be deleted while customers hold it."""
