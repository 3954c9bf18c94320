"""Admin forms for customers: create (with password), edit, and the bulk action forms."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField
from django.utils.translation import gettext_lazy as _

from customers.exceptions import MOBILE_TAKEN, USERNAME_TAKEN, InvalidMobile
from customers.models import Customer, Level
from customers.phone import normalize_mobile

User = get_user_model()

PASSWORDS_DIFFER = _("The two passwords differ.")


def active_levels(current: Level | None = None):
    """Levels a customer may be moved to: the active ones, plus the one it holds now."""
    levels = Level.objects.filter(is_active=True)
    if current is not None:
        levels = levels | Level.objects.filter(pk=current.pk)
    return levels.order_by("display_order", "id")


def account_managers():
    """Users who may own customers: active staff."""
    return User.objects.filter(is_staff=True, is_active=True).order_by("username")


class MobileCleaningMixin:
    """Normalise the mobile to E.164 and refuse one another customer uses."""

    def clean_mobile(self):
        try:
            mobile = normalize_mobile(self.cleaned_data.get("mobile", ""))
        except InvalidMobile as exc:
            raise forms.ValidationError(exc.message) from exc
        others = Customer.objects.filter(mobile=mobile)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(MOBILE_TAKEN % {"mobile": mobile})
        return mobile


class PasswordPairMixin:
    """Two password fields that must match and pass Django's validators."""

    def _clean_password_pair(self, user) -> None:
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            self.add_error("password2", PASSWORDS_DIFFER)
        elif first:
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)


class CustomerCreationForm(MobileCleaningMixin, PasswordPairMixin, forms.ModelForm):
    """Username, password twice, name, mobile, level, account manager, notes."""

    username = UsernameField(label=_("username"), max_length=150)
    password1 = forms.CharField(
        label=_("password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("password confirmation"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Customer
        fields = ["name", "mobile", "level", "account_manager", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = active_levels()
        if "account_manager" in self.fields:
            self.fields["account_manager"].queryset = account_managers()
        self.order_fields(["username", "password1", "password2"])

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(USERNAME_TAKEN % {"username": username})
        return username

    def clean(self):
        cleaned = super().clean()
        self._clean_password_pair(User(username=cleaned.get("username", "")))
        return cleaned


class CustomerChangeForm(MobileCleaningMixin, forms.ModelForm):
    """What the change page edits: name, mobile, level, notes (manager and state by actions)."""

    class Meta:
        model = Customer
        fields = ["name", "mobile", "level", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "level" in self.fields:
            current = self.instance.level if self.instance.level_id else None
            self.fields["level"].queryset = active_levels(current)


class CustomerPasswordForm(PasswordPairMixin, forms.Form):
    """Set or reset a customer's portal password."""

    password1 = CustomerCreationForm.base_fields["password1"]
    password2 = CustomerCreationForm.base_fields["password2"]

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        self._clean_password_pair(self.user)
        return cleaned


class ChangeLevelForm(forms.Form):
    """The level to move the selected customers to."""

    level = forms.ModelChoiceField(label=_("level"), queryset=Level.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = active_levels()


class ReassignManagerForm(forms.Form):
    """The account manager to hand the selected customers to."""

    account_manager = forms.ModelChoiceField(
        label=_("account manager"), queryset=User.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = account_managers()
