"""The staff forms that move money: one amount, a memo, and the key that makes a resubmit safe."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from wallet.exceptions import MEMO_REQUIRED, InvalidAmount
from wallet.money import parse_amount

KEY_INVALID = _("This form has expired; open it again.")


class MoneyMovementForm(forms.Form):
    """Amount and memo for a recharge (充值).

    ``request_key`` is generated when the form is first shown and travels with every re-post, so
    a double submit of the same form moves money once (services replay a repeated key).
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
    memo = forms.CharField(
        label=_("Memo"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    memo_required = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("request_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        if self.memo_required:
            self.fields["memo"].required = True
            self.fields["memo"].error_messages["required"] = MEMO_REQUIRED

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

    def clean_request_key(self):
        """A hex uuid, nothing else: it becomes part of ledger idempotency keys."""
        key = self.cleaned_data["request_key"]
        try:
            return uuid.UUID(hex=key).hex
        except ValueError as exc:
            raise forms.ValidationError(KEY_INVALID, code="invalid_key") from exc


class DeductForm(MoneyMovementForm):
    """Amount and a required memo for a deduction (扣款)."""

    memo_required = True
