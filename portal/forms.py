"""The portal's forms: logging in, ordering, and the list filters."""

import uuid

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from customers.exceptions import InvalidMobile
from customers.models import Customer
from customers.phone import normalize_mobile
from orders.forms import PricedOrderFormMixin
from orders.models import Service
from orders.pricing import Quote, services_catalog
from portal.labels import KIND_LABELS, STATUS_LABELS
from portal.selectors import EntryFilters, OrderFilters

DATE_RANGE_REVERSED = _("The start date must not be after the end date.")
CODE_FORMAT = _("Enter the 6 digits of the code.")
CHOOSE_SERVICE = _("Choose one of the services offered.")
CHOOSE_A_SERVICE = _("Choose a service")


class BootstrapForm(forms.Form):
    """Gives widgets Bootstrap's classes, and marks the fields with errors as invalid."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


class PasswordLoginForm(BootstrapForm):
    identifier = forms.CharField(
        label=_("Username or mobile"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MobileField(forms.CharField):
    """A mobile number, cleaned to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "13800138000"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return normalize_mobile(value)
        except InvalidMobile as exc:
            raise forms.ValidationError(exc.message, code="invalid_mobile") from exc


class SmsSendForm(BootstrapForm):
    mobile = MobileField()


class SmsLoginForm(BootstrapForm):
    mobile = MobileField()
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        min_length=6,
        validators=[RegexValidator(r"^\d{6}$", CODE_FORMAT)],
        error_messages={"min_length": CODE_FORMAT},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"\d{6}"}
        ),
    )


class OrderForm(PricedOrderFormMixin, BootstrapForm):
    """Service, target and quantity; valid once the order can be priced for this customer."""

    # The choices are the cached catalogue (orders.pricing.services_catalog): showing, validating
    # and pricing the form reads no service or tier; order_place reads them fresh under the lock.
    service = forms.ChoiceField(
        label=_("Service"),
        error_messages={"required": CHOOSE_SERVICE, "invalid_choice": CHOOSE_SERVICE},
    )
    target = forms.CharField(
        label=_("Target"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    # Text read by parse_quantity only (not IntegerField, which takes "１００"; not stripped).
    quantity = forms.CharField(
        label=_("Quantity"),
        strip=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    # Made when the form is first shown; one key = one order, however often it is submitted.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.quote: Quote | None = None
        self.services = {str(service.pk): service for service in services_catalog()}
        self.fields["service"].choices = [
            ("", CHOOSE_A_SERVICE),
            *((pk, service.name) for pk, service in self.services.items()),
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def clean_service(self) -> Service:
        return self.services[self.cleaned_data["service"]]

    def clean_target(self):
        return self.cleaned_data["target"].strip()

    def order_customer(self, data: dict) -> Customer:
        """The logged-in customer."""
        return self.customer


class ConfirmOrderForm(OrderForm):
    """The same order, re-posted from the confirmation page with the amount the customer saw."""

    # Raw text: the view reads it with orders.forms.read_shown_amount and, when it is missing or
    # malformed, shows the confirmation again with a message instead of a silent redisplay.
    shown_amount = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("service", "target", "quantity"):
            self.fields[name].widget = forms.HiddenInput()


def _date(label):
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class _DateRangeForm(BootstrapForm):
    date_from = _date(_("From"))
    date_to = _date(_("To"))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", DATE_RANGE_REVERSED)
        return data


class OrderFilterForm(_DateRangeForm):
    q = forms.CharField(
        label=_("Order number or target"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *STATUS_LABELS.items()],
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        required=False,
        queryset=Service.objects.all(),
        empty_label=_("All services"),
    )
    field_order = ["q", "status", "service", "date_from", "date_to"]

    def filters(self) -> OrderFilters:
        """The cleaned filters (the form must be valid)."""
        data = self.cleaned_data
        return OrderFilters(
            q=data["q"].strip(),
            status=data["status"],
            service=data["service"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class EntryFilterForm(_DateRangeForm):
    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *KIND_LABELS.items()]
    )
    order = forms.CharField(label=_("Order number"), required=False, max_length=32)
    field_order = ["kind", "order", "date_from", "date_to"]

    def filters(self) -> EntryFilters:
        """The cleaned filters (the form must be valid)."""
        data = self.cleaned_data
        return EntryFilters(
            kind=data["kind"],
            order_number=data["order"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


PROOF_TOO_LARGE = _("The image may be at most %(size)s MB.")
PROOF_NOT_AN_IMAGE = _("Upload a PNG, JPEG or WebP image of the payment.")
PROOF_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


class TopUpForm(BootstrapForm):
    """A top-up request (充值申请). Amount rules are the wallet's (checked by its service)."""

    amount = forms.CharField(
        label=_("Amount (¥)"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    method = forms.ChoiceField(label=_("Payment method"))
    payer = forms.CharField(label=_("Payer name or account"), max_length=100)
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=64,
        help_text=_("The transaction number shown in your bank or payment app."),
    )
    proof = forms.FileField(
        label=_("Screenshot of the payment (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from wallet.services import topup_methods

        self.fields["method"].choices = list(topup_methods().items())

    def clean_proof(self):
        proof = self.cleaned_data.get("proof")
        if not proof:
            return None
        limit = settings.WALLET_TOPUP_PROOF_MAX_BYTES
        if proof.size > limit:
            raise forms.ValidationError(PROOF_TOO_LARGE, params={"size": limit // (1024 * 1024)})
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(proof) as image:
                image_format = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise forms.ValidationError(PROOF_NOT_AN_IMAGE) from exc
        if image_format not in PROOF_FORMATS:
            raise forms.ValidationError(PROOF_NOT_AN_IMAGE)
        proof.seek(0)
        proof.name = f"proof.{PROOF_FORMATS[image_format]}"  # the extension the content proves
        return proof


class ProfileForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=100)


class MobileChangeSendForm(BootstrapForm):
    mobile = MobileField(label=_("New mobile"))


class MobileChangeCodeForm(BootstrapForm):
    code = forms.CharField(
        label=_("Code"),
        validators=[RegexValidator(r"^\d{6}$", CODE_FORMAT)],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
