"""Errors raised by wallet services. Messages are constants so tests assert the shown text."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

AMOUNT_NOT_A_NUMBER = _("Enter an amount such as 100 or 99.50.")
AMOUNT_NOT_POSITIVE = _("The amount must be greater than zero.")
AMOUNT_TOO_PRECISE = _("The amount may have at most two decimal places.")
AMOUNT_TOO_LARGE = _("The amount may not exceed %(limit)s in one operation.")
INSUFFICIENT_FUNDS = _("Insufficient balance: %(balance)s available, %(amount)s needed.")
MEMO_REQUIRED = _("A deduction needs a memo saying why.")
IDEMPOTENCY_CONFLICT = _(
    "This request key was already used for a different operation; nothing was changed."
)
REFUND_WITHOUT_DEBIT = _("Order %(number)s was never debited from this account; nothing to refund.")
REFUND_EXCEEDS_DEBIT = _("A refund of %(amount)s is more than the order's debit of %(debit)s.")
DUPLICATE_PAYMENT_REFERENCE = _(
    "Payment reference %(reference)s (%(method)s) was already entered on %(time)s for "
    "%(customer)s (ledger entry %(entry)s); nothing was changed."
)
REFERENCE_REPEATED = _(
    "Payment reference %(reference)s appears more than once; a payment is entered once. "
    "Nothing was changed."
)
REFERENCE_NEEDS_METHOD = _("Choose the payment method this reference belongs to.")
UNKNOWN_PAYMENT_METHOD = _("Choose one of the listed payment methods.")
REFERENCE_TOO_LONG = _("A payment reference has at most %(max)s characters.")
ENTRY_IMMUTABLE = _("Ledger entries cannot be changed or deleted; write a correcting entry.")


class WalletError(DomainError):
    """A wallet rule refused the request."""


class InvalidAmount(WalletError):
    """The amount is not a positive number with at most two decimals under the limit."""


class InsufficientFunds(WalletError):
    """The balance would go below zero."""


class MemoRequired(WalletError):
    """The operation needs a memo."""


class IdempotencyConflict(WalletError):
    """The idempotency key was used for a different request."""


class RefundNotAllowed(WalletError):
    """The refund has no matching order debit or exceeds it."""


class DuplicatePaymentReference(WalletError):
    """The payment (method and reference) was already entered in the ledger."""


class InvalidPayment(WalletError):
    """The payment method or reference is not acceptable."""


class LineRefused(WalletError):
    """One line of a bulk movement was refused: ``index`` is its place, ``reason`` the refusal
    (its message is this error's message)."""

    def __init__(self, reason: WalletError, *, index: int):
        super().__init__(reason.message)
        self.reason = reason
        self.index = index


class EntryImmutable(WalletError):
    """Somebody tried to change or delete a ledger entry."""


TOPUP_NOT_PENDING = _("This top-up request was already %(status)s; nothing was changed.")
TOPUP_OWN_REQUEST = _("You submitted this top-up request yourself; another person must decide it.")
TOPUP_NOT_ALLOWED = _("You may not approve or reject top-up requests.")
TOPUP_REASON_REQUIRED = _("Say why the request is rejected.")
TOPUP_DUPLICATE_REFERENCE = _("You already submitted a request with this payment reference.")
TOPUP_UNKNOWN_METHOD = _("Choose a payment method from the list.")


class TopUpError(WalletError):
    """A top-up request cannot be submitted or decided as asked."""
