"""What every organisation account's sign-up shares: the form's two parts and the view's sign-up step.

The shared team pages are tested through their two faces, whose wording and scoping differ:
donations/tests/test_accounts.py and projects/tests/test_organisations.py.
"""

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError

from hubs.accounts import account_create
from hubs.accounts.organisation_pages import organisation_sign_up
from hubs.forms import OrganisationSignUpForm

pytestmark = pytest.mark.django_db

DATA = {
    "name": "Likoni Chess Club",
    "country": "KE",
    "contact_name": "Grace Atieno",
    "contact_phone": "+254 20 123 4567",
    "email": "Chess@Likoni.Example",
    "password1": "Knights-and-laptops-7",
    "password2": "Knights-and-laptops-7",
}


class ClubError(Exception):
    pass


class ClubSignUpForm(OrganisationSignUpForm):
    name = forms.CharField(label="Club", max_length=200)
    contact_name_help = "Who the hub calls."
    field_order = ["name", "country", "contact_name", "contact_phone", "email", "password1", "password2"]


def _post(rf, data=DATA):
    request = rf.post("/sign-up/", data)
    SessionMiddleware(lambda request: None).process_request(request)
    request.user = AnonymousUser()
    return request


def test_the_organisations_fields_come_first_then_the_account():
    form = ClubSignUpForm()

    assert [field.name for field in form.organisation_fields()] == ["name", "country", "contact_name", "contact_phone"]
    assert [field.name for field in form.account_fields()] == ["email", "password1", "password2"]
    assert form.fields["contact_name"].help_text == "Who the hub calls."


def test_the_sign_up_details_are_the_services_arguments_with_the_password_once():
    form = ClubSignUpForm(data=DATA)

    assert form.is_valid(), form.errors
    assert form.sign_up_details() == {
        "name": "Likoni Chess Club",
        "country": "KE",
        "contact_name": "Grace Atieno",
        "contact_phone": "+254 20 123 4567",
        "email": "Chess@likoni.example",
        "password": "Knights-and-laptops-7",
    }


def test_signing_up_logs_the_new_user_in_and_sends_the_link_to_verify_the_address(rf, mailoutbox):
    def sign_up(*, name, email, password, **_details):
        return name, account_create(email=email, password=password)

    request = _post(rf)

    organisation, user = organisation_sign_up(
        request, form=ClubSignUpForm(data=request.POST), sign_up=sign_up, error=ClubError
    )

    assert organisation == "Likoni Chess Club"
    assert request.user == user and user.email == "Chess@likoni.example"
    assert [message.to for message in mailoutbox] == [["Chess@likoni.example"]]


def test_the_services_error_lands_on_the_e_mail_field(rf, mailoutbox):
    def sign_up(**_details):
        raise ClubError("An account with this address was opened a moment ago.")

    request = _post(rf)
    form = ClubSignUpForm(data=request.POST)

    assert organisation_sign_up(request, form=form, sign_up=sign_up, error=ClubError) is None
    assert form.errors == {"email": ["An account with this address was opened a moment ago."]}
    assert not request.user.is_authenticated and not mailoutbox


def test_a_validation_error_from_the_sign_up_lands_on_the_field_it_names(rf):
    def sign_up(**_details):
        raise ValidationError({"name": "A club with this name signed up a moment ago."})

    request = _post(rf)
    form = ClubSignUpForm(data=request.POST)

    assert organisation_sign_up(request, form=form, sign_up=sign_up, error=ClubError) is None
    assert form.errors == {"name": ["A club with this name signed up a moment ago."]}


def test_an_invalid_form_or_a_get_signs_nobody_up(rf):
    def sign_up(**_details):
        raise AssertionError("not called")

    bad = _post(rf, {**DATA, "contact_phone": "call me"})
    get = rf.get("/sign-up/")

    assert organisation_sign_up(bad, form=ClubSignUpForm(data=bad.POST), sign_up=sign_up, error=ClubError) is None
    assert organisation_sign_up(get, form=ClubSignUpForm(), sign_up=sign_up, error=ClubError) is None
