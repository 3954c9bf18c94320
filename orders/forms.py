"""Admin forms: a service and its tiers, placing an order for a customer, cancelling orders."""

import re
import uuid
from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from customers.models import Customer
from customers.selectors import customer_find
from orders.fulfilment import backend_names
from orders.models import PriceTier, Service
from orders.pricing import Quote, parse_quantity, validate_target
from orders.services import order_quote
from wallet.exceptions import AMOUNT_NOT_POSITIVE, InvalidAmount
from wallet.money import amount_from_text

BACKEND_UNKNOWN = _("Unknown fulfilment backend %(name)s; configured: %(names)s.")
PATTERN_INVALID = _("This is not a valid regular expression: %(error)s")
PATTERN_REQUIRED = _("A service validated by pattern needs a pattern.")
CUSTOMER_NOT_FOUND = _("No customer you may serve has this username, mobile or ID.")
CUSTOMER_AMBIGUOUS = _(
    "More than one customer matches this username, mobile or ID; type another of the three."
)
SERVICE_CHOICE_INVALID = _("Choose an active service from the list.")
TIERS_REQUIRED = _("An active service needs at least one price tier.")
TIER_ABOVE_MAXIMUM = _("The smallest tier (%(quantity)s) is above the maximum quantity.")
SHOWN_AMOUNT_INVALID = _(
    "The confirmed amount could not be read; nothing was charged. "
    "Check the amount below and confirm again."
)


def read_shown_amount(value: str | None) -> Decimal | None:
    """The amount a confirmation page showed, as posted back with the confirm button; None when
    missing or not an amount in the strict grammar of ``wallet.money`` (the caller then shows
    the confirmation again with a message, and charges nothing).
    """
    try:
        amount = amount_from_text(value or "")
    except InvalidAmount:
        return None
    return amount if amount >= 0 else None


def backend_choices() -> list[tuple[str, str]]:
    """The configured fulfilment backends, by name."""
    return [(name, name) for name in backend_names()]


class QuantityField(forms.IntegerField):
    """An integer model field's form field that reads text only by ``parse_quantity``.

    Django's IntegerField would take full-width "１００" and "1.0"; this keeps its bounds.
    """

    def to_python(self, value):
        """The whole number typed, or the quantity message."""
        if value in self.empty_values:
            return None
        try:
            return parse_quantity(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc


class PriceField(forms.DecimalField):
    """A price typed in the strict amount grammar (``wallet.money``); digits and places are
    then checked by DecimalField. Django's own would take "１００", "1e3" and "1_000".
    """

    def to_python(self, value):
        """The amount typed, or the amount message."""
        if value in self.empty_values:
            return None
        try:
            price = amount_from_text(str(value))
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc
        if price <= 0:
            raise forms.ValidationError(AMOUNT_NOT_POSITIVE, code="min_value")
        return price


class ServiceAdminForm(forms.ModelForm):
    """A service: the backend must be configured and the pattern must compile."""

    class Meta:
        model = Service
        field_classes = {"min_quantity": QuantityField, "max_quantity": QuantityField}
        fields = [
            "name",
            "description",
            "unit_name",
            "min_quantity",
            "max_quantity",
            "target_kind",
            "target_pattern",
            "backend",
            "is_active",
            "display_order",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = backend_choices()
        current = self.initial.get("backend")
        if current and current not in dict(choices):  # shown, so the error below is visible
            choices.append((current, current))
        self.fields["backend"].widget = forms.Select(choices=choices)

    def clean_backend(self) -> str:
        """Only a name from settings.FULFILMENT_BACKENDS."""
        name = self.cleaned_data["backend"]
        names = backend_names()
        if name not in names:
            raise forms.ValidationError(
                BACKEND_UNKNOWN, params={"name": name, "names": ", ".join(names)}
            )
        return name

    def clean_target_pattern(self) -> str:
        """The pattern compiles as a Python regular expression."""
        pattern = self.cleaned_data.get("target_pattern", "")
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise forms.ValidationError(PATTERN_INVALID, params={"error": exc}) from exc
        return pattern

    def clean(self):
        """A pattern service needs its pattern."""
        data = super().clean()
        if data.get("target_kind") == Service.TargetKind.PATTERN and not data.get("target_pattern"):
            self.add_error("target_pattern", PATTERN_REQUIRED)
        return data


class PriceTierForm(forms.ModelForm):
    """One tier: quantity and price typed as strictly as any quantity and amount."""

    class Meta:
        model = PriceTier
        fields = ["quantity", "price"]
        field_classes = {"quantity": QuantityField, "price": PriceField}


class PriceTierFormSet(forms.BaseInlineFormSet):
    """An active service has at least one tier, and its smallest tier can be ordered."""

    def clean(self):
        """Check the tiers together with the service's range."""
        super().clean()
        if any(form.errors for form in self.forms):
            return
        quantities = [
            form.cleaned_data["quantity"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("quantity")
        ]
        service = self.instance
        if not quantities:
            if service.is_active:
                raise forms.ValidationError(TIERS_REQUIRED)
            return
        if min(quantities) > service.max_quantity:
            raise forms.ValidationError(TIER_ABOVE_MAXIMUM, params={"quantity": min(quantities)})


class PricedOrderFormMixin:
    """For a form with ``service``, ``target`` and ``quantity``: ``clean`` validates the target
    for the service and prices the order for ``order_customer(data)`` into ``self.quote`` —
    the same checks ``order_place`` makes, shown as field errors (admin and portal alike).
    """

    quote: Quote | None = None

    def order_customer(self, data: dict) -> Customer | None:
        """Whose level prices the order."""
        raise NotImplementedError

    def clean(self):
        """Validate the target for the service and price the order for the customer."""
        data = super().clean()
        service = data.get("service")
        if service is None:
            return data
        if "target" in data:
            try:
                data["target"] = validate_target(service=service, target=data["target"])
            except DomainError as exc:
                self.add_error("target", exc.message)
        customer = self.order_customer(data)
        if customer is not None and "quantity" in data:
            try:
                self.quote = order_quote(
                    customer=customer, service=service, quantity=data["quantity"]
                )
                data["quantity"] = self.quote.quantity
            except DomainError as exc:
                self.add_error("quantity", exc.message)
        return data


class PlaceOrderForm(PricedOrderFormMixin, forms.Form):
    """Staff place an order on a customer's behalf; ``clean`` prices it (``self.quote``)."""

    customer = forms.CharField(
        label=_("customer"),
        max_length=150,
        help_text=_("Username, mobile or customer ID."),
    )
    service = forms.ModelChoiceField(
        label=_("service"),
        queryset=Service.objects.filter(is_active=True),
        error_messages={"invalid_choice": SERVICE_CHOICE_INVALID},
    )
    target = forms.CharField(label=_("target"), max_length=500)
    # Text read by parse_quantity only (not IntegerField, which takes "１００"; not stripped).
    quantity = forms.CharField(label=_("quantity"), strip=False)
    memo = forms.CharField(label=_("memo"), max_length=255, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, customers: QuerySet[Customer], **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = customers
        self.fields["idempotency_key"].initial = f"admin:{uuid.uuid4().hex}"

    def clean_customer(self) -> Customer:
        """A customer the user may serve, by its whole username, mobile or id (``customer_find``)."""
        found = list(
            customer_find(self.cleaned_data["customer"], queryset=self.customers, exact=True)[:2]
        )
        if not found:
            raise forms.ValidationError(CUSTOMER_NOT_FOUND)
        if len(found) > 1:
            raise forms.ValidationError(CUSTOMER_AMBIGUOUS)
        return found[0]

    def clean_quantity(self) -> int:
        """A whole number (the service's range is checked with the price)."""
        try:
            return parse_quantity(self.cleaned_data["quantity"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def order_customer(self, data: dict) -> Customer | None:
        """The customer picked on the form."""
        return data.get("customer")


class CancelOrdersForm(forms.Form):
    """Why the orders are cancelled (kept on each order's event and refund entry)."""

    reason = forms.CharField(
        label=_("reason"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
    )
