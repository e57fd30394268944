"""Account forms shared by every kind of user: sign-in by e-mail, accepting an invitation, an organisation's
sign-up and its invitations to colleagues."""

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm, UserCreationForm
from django.forms import BoundField
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .accounts import normalise_email

# Digits with the separators people type; an optional + (or 00) in front. E.164 allows 15 digits at most.
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]+$")


def clean_phone(value: str) -> str:
    """A phone number as people write it, checked: 7 to 15 digits, only separators besides, + only in front."""
    value = " ".join(value.split())
    digits = re.sub(r"\D", "", value)
    if not PHONE_RE.match(value) or not 7 <= len(digits) <= 15:
        raise forms.ValidationError(
            _("Enter a phone number of 7 to 15 digits, with the country code, e.g. +32 2 123 45 67."),
            code="invalid_phone",
        )
    return value


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, asking for the e-mail address (usernames given before still work)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.label = _("E-mail address")
        field.help_text = _("Or the username you were given, if you have one.")
        field.max_length = 254
        field.widget.attrs.update({"autocomplete": "username", "maxlength": 254, "inputmode": "email"})
        self.error_messages["invalid_login"] = _(
            "Enter a correct e-mail address (or username) and password. Both are case-sensitive except the address."
        )


class InvitationAcceptForm(SetPasswordForm):
    """The invited person's name and password; their e-mail address is the one the invitation went to."""

    first_name = forms.CharField(
        label=_("First name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    field_order = ["first_name", "last_name", "new_password1", "new_password2"]


class OrganisationSignUpForm(UserCreationForm):
    """An organisation, its contact person and its first user in one form; the user signs in by e-mail.

    Each face (donors, beneficiary organisations) adds its organisation's own fields, named as its sign-up
    service's arguments, orders them with ``field_order`` and says in ``contact_name_help``,
    ``contact_phone_help`` and ``email_help`` what the details are for. The organisation's fields come first,
    then ``ACCOUNT_FIELDS``.
    """

    ACCOUNT_FIELDS = ("email", "password1", "password2")

    contact_name_help: Promise | str = ""
    contact_phone_help: Promise | str = ""
    email_help: Promise | str = ""

    # Every country by its name in the reader's language, sorted in it; the code is what is stored.
    country = CountryField(blank_label=_("Choose a country")).formfield(
        label=_("Country"),
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    contact_name = forms.CharField(
        label=_("Contact person"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("email",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_name"].help_text = self.contact_name_help
        self.fields["contact_phone"].help_text = self.contact_phone_help
        email = self.fields["email"]
        email.required = True
        email.label = _("E-mail address")
        email.help_text = self.email_help
        email.widget.attrs["autocomplete"] = "email"

    def organisation_fields(self) -> list[BoundField]:
        return [field for field in self if field.name not in self.ACCOUNT_FIELDS]

    def account_fields(self) -> list[BoundField]:
        return [self[name] for name in self.ACCOUNT_FIELDS]

    def sign_up_details(self) -> dict[str, Any]:
        """The face's sign-up service's arguments: every field by its name, the password once as ``password``."""
        details = {name: value for name, value in self.cleaned_data.items() if name not in ("password1", "password2")}
        return details | {"password": self.cleaned_data["password1"]}

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this e-mail address already exists. Log in, or reset your password."),
                code="duplicate",
            )
        return email

    def clean_contact_phone(self) -> str:
        return clean_phone(self.cleaned_data["contact_phone"])


class InviteColleagueForm(forms.Form):
    """The address a user of an organisation invites to join it."""

    email = forms.EmailField(
        label=_("Colleague's e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
