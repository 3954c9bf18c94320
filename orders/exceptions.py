"""Errors raised by order services. Messages are constants so tests assert the shown text."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

SERVICE_UNAVAILABLE = _("This service is not available.")
SERVICE_HAS_NO_PRICES = _("This service has no prices yet.")
QUANTITY_NOT_AN_INTEGER = _("Enter the quantity as a whole number.")
QUANTITY_OUT_OF_RANGE = _("The quantity must be between %(minimum)s and %(maximum)s.")
TARGET_INVALID_URL = _("Enter a valid http:// or https:// address.")
TARGET_INVALID_PATTERN = _("The target does not have the form this service expects.")
TARGET_REQUIRED = _("Enter a target.")
CUSTOMER_INACTIVE = _("This customer is deactivated and cannot place orders.")
NOT_CANCELLABLE = _("Order %(number)s is %(status)s and can no longer be cancelled.")
STATE_CHANGED = _("Order %(number)s is no longer %(expected)s; nothing was changed.")
TRANSITION_NOT_ALLOWED = _("Order %(number)s cannot go from %(from_status)s to %(to_status)s.")
DUPLICATE_SUBMIT = _("This order form was already submitted for another order.")
PRICE_CHANGED = _(
    "The price is now %(amount)s, not the amount that was confirmed; nothing was charged. "
    "Check the new price and confirm again."
)


class OrderError(DomainError):
    """An order rule refused the request."""


class ServiceUnavailable(OrderError):
    """The service is unknown, inactive or has no prices."""


class InvalidQuantity(OrderError):
    """The quantity is not an integer in the service's range."""


class InvalidTarget(OrderError):
    """The target fails the service's validation."""


class CustomerInactive(OrderError):
    """A deactivated customer cannot order."""


class OrderNotCancellable(OrderError):
    """Only pending orders can be cancelled."""


class OrderStateChanged(OrderError):
    """A guarded transition found the order in another status (someone else moved it)."""


class PriceChanged(OrderError):
    """The amount priced under the account lock differs from the amount the person confirmed.

    ``quote`` is the new price (an ``orders.pricing.Quote``) to show for a new confirmation.
    """

    def __init__(self, message=PRICE_CHANGED, *, quote):
        self.quote = quote
        super().__init__(message, amount=quote.amount)

    @property
    def amount(self):
        """The new amount."""
        return self.quote.amount


class InvalidTransition(OrderError):
    """The move is not in ``Order.TRANSITIONS`` (a programming error, refused before any write)."""
