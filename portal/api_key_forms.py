"""The portal's API key forms (views/api_keys.py): create a key, change its allowed addresses."""

from django import forms
from django.utils.translation import gettext_lazy as _

from api.exceptions import ApiKeyError
from api.services import allowed_ips_parse
from portal.forms import BootstrapForm


class AllowedIpsField(forms.CharField):
    """Addresses or networks, one per line (or separated by commas or spaces)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 4000)
        kwargs.setdefault("label", _("Allowed IP addresses (optional)"))
        kwargs.setdefault(
            "help_text",
            _(
                "One address or network per line, e.g. 203.0.113.7 or 198.51.100.0/24. Empty: any address."
            ),
        )
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return allowed_ips_parse(value or "")
        except ApiKeyError as exc:
            raise forms.ValidationError(exc.message) from exc


class ApiKeyCreateForm(BootstrapForm):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        help_text=_("Where the key is used, e.g. “online shop”."),
    )
    allowed_ips = AllowedIpsField()


class ApiKeyIpsForm(BootstrapForm):
    allowed_ips = AllowedIpsField()
