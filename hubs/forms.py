"""Account forms shared by every kind of user: sign-in by e-mail, accepting an invitation."""

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

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
