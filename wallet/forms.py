"""The staff forms that move money: one amount, a memo, and the key that makes a resubmit safe."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from wallet.exceptions import (
    MEMO_REQUIRED,
    REFERENCE_NEEDS_METHOD,
    REFERENCE_TOO_LONG,
    InvalidAmount,
)
from wallet.models import Entry
from wallet.money import parse_amount
from wallet.services import REFERENCE_MAX_LENGTH, payment_reference_normalize

KEY_INVALID = _("This form has expired; open it again.")
REFERENCE_FOR_ONE_CUSTOMER = _(
    "A payment reference belongs to one customer's payment: enter it on that customer's own "
    "recharge page, or leave it empty here."
)


class MoneyMovementForm(forms.Form):
    """Amount, how it was paid, and a memo for a recharge (充值).

    ``request_key`` is generated when the form is first shown and travels with every re-post, so
    a double submit of the same form moves money once (services replay a repeated key). The
    payment reference (转账流水号/凭证号) is unique per method in the ledger; ``customer_count``
    above one (a bulk action) refuses a reference, which can only belong to one payment.
    """

    # Text, not DecimalField: that would accept "１００" and "1e3" before parse_amount sees them;
    # strip=False so that only the parser's ASCII spaces are allowed around the digits.
    amount = forms.CharField(
        label=_("Amount (CNY)"),
        strip=False,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "class": "form-control"}
        ),
        help_text=_("Greater than zero, at most two decimal places."),
    )
    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        choices=Entry.PaymentMethod.choices,
        initial=Entry.PaymentMethod.BANK_TRANSFER,
        widget=forms.Select(attrs={"class": "form-control"}),
    )
    payment_reference = forms.CharField(
        label=_("Payment reference"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "form-control"}),
        help_text=_("Bank transfer serial number or voucher number (转账流水号/凭证号)."),
    )
    memo = forms.CharField(
        label=_("Memo"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    memo_required = False
    payment_required = True

    def __init__(self, *args, customer_count: int = 1, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("request_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.customer_count = customer_count
        if self.memo_required:
            self.fields["memo"].required = True
            self.fields["memo"].error_messages["required"] = MEMO_REQUIRED
        if not self.payment_required:
            method = self.fields["payment_method"]
            method.required = False
            method.initial = ""
            method.choices = [("", "---------"), *Entry.PaymentMethod.choices]

    def clean_amount(self):
        """Parse with the same rules as the services, so errors show beside the field."""
        try:
            return parse_amount(self.cleaned_data["amount"])
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message, code="invalid_amount") from exc

    def clean_memo(self):
        """A memo of only spaces is no memo."""
        memo = self.cleaned_data["memo"].strip()
        if self.memo_required and not memo:
            raise forms.ValidationError(MEMO_REQUIRED, code="required")
        return memo

    def clean_payment_reference(self):
        """Stored without spaces and in capitals; one payment, one customer."""
        reference = payment_reference_normalize(self.cleaned_data["payment_reference"])
        if reference and len(reference) > REFERENCE_MAX_LENGTH:
            raise forms.ValidationError(REFERENCE_TOO_LONG % {"max": REFERENCE_MAX_LENGTH})
        if reference and self.customer_count > 1:
            raise forms.ValidationError(REFERENCE_FOR_ONE_CUSTOMER, code="one_customer")
        return reference

    def clean(self):
        """A reference says which method it belongs to."""
        data = super().clean()
        if data.get("payment_reference") and not data.get("payment_method"):
            self.add_error("payment_method", forms.ValidationError(REFERENCE_NEEDS_METHOD))
        return data

    def clean_request_key(self):
        """A hex uuid, nothing else: it becomes part of ledger idempotency keys."""
        key = self.cleaned_data["request_key"]
        try:
            return uuid.UUID(hex=key).hex
        except ValueError as exc:
            raise forms.ValidationError(KEY_INVALID, code="invalid_key") from exc


class DeductForm(MoneyMovementForm):
    """Amount and a required memo for a deduction (扣款); a payout's method is optional."""

    memo_required = True
    payment_required = False
