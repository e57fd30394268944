"""A beneficiary organisation signs up by e-mail, verifies it before applying, and invites or removes colleagues."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from hubs.accounts import email_is_verified
from hubs.factories import UserFactory
from projects.factories import ProjectFactory
from projects.models import BeneficiaryOrganisation

pytestmark = pytest.mark.django_db
User = get_user_model()

SIGN_UP = {
    "name": "Likoni Secondary School",
    "country": "KE",
    "place": "Likoni",
    "contact_name": "Grace Atieno",
    "contact_phone": "+254 20 123 4567",
    "email": "Head@Likoni.example",
    "password1": "Chalk-and-laptops-7",
    "password2": "Chalk-and-laptops-7",
}


def _link(pattern: str) -> str:
    return re.search(rf"http://testserver(/en/accounts/{pattern}/\S+/)", mail.outbox[-1].body).group(1)


def test_signing_up_creates_the_organisation_and_an_account_that_signs_in_by_e_mail(client, hubs):
    response = client.post(reverse("projects:signup"), SIGN_UP)
    assert response.status_code == 302 and response["Location"] == reverse("projects:portal")
    organisation = BeneficiaryOrganisation.objects.get()
    user = User.objects.get(email="Head@likoni.example")
    assert list(organisation.users.all()) == [user]
    assert (organisation.country, organisation.place, organisation.contact_phone) == (
        "KE",
        "Likoni",
        "+254 20 123 4567",
    )
    assert not email_is_verified(user=user)
    client.logout()
    assert client.login(username="head@likoni.example", password="Chalk-and-laptops-7")


def test_sign_up_errors_name_their_field_and_save_nothing(client, db):
    bad = {**SIGN_UP, "contact_phone": "call me", "country": "", "password2": "other"}
    response = client.post(reverse("projects:signup"), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    for field in ("id_contact_phone", "id_country", "id_password2"):
        assert f'href="#{field}"' in html
    assert not BeneficiaryOrganisation.objects.exists() and not User.objects.exists()


def test_the_e_mail_is_verified_before_the_first_application(client, hubs):
    client.post(reverse("projects:signup"), SIGN_UP)
    refused = client.get(reverse("projects:apply"))
    assert refused.status_code == 403
    assert "Before your first application" in refused.content.decode()
    client.get(_link("verify-email"))
    page = client.get(reverse("projects:apply"))
    assert page.status_code == 200
    assert 'value="Likoni Secondary School"' in page.content.decode()  # the organisation is filled in


def test_an_invited_colleague_joins_and_sees_the_organisations_projects_only(
    client, hubs, django_capture_on_commit_callbacks
):
    client.post(reverse("projects:signup"), SIGN_UP)
    head = User.objects.get(email="Head@likoni.example")
    organisation = BeneficiaryOrganisation.objects.get()
    own = ProjectFactory(organisation=organisation.name, hub=hubs["KE-MBA"], name="Science lab")
    other = ProjectFactory(organisation="Another School", hub=hubs["KE-MBA"], name="Other lab")
    own.coordinators.add(head)

    with django_capture_on_commit_callbacks(execute=True):  # the invitation is e-mailed after commit
        invited = client.post(
            reverse("projects:team-invite", args=[organisation.pk]),
            {f"org{organisation.pk}-email": "it@likoni.example"},
        )
    assert invited.status_code == 302
    link = _link("invitation")
    client.logout()
    joined = client.post(
        link,
        {
            "first_name": "Tom",
            "last_name": "Otieno",
            "new_password1": "Wipe-all-disks-9",
            "new_password2": "Wipe-all-disks-9",
        },
    )
    assert joined.status_code == 302 and joined["Location"] == reverse("projects:portal")
    colleague = User.objects.get(email="it@likoni.example")
    assert list(colleague.beneficiary_organisations.all()) == [organisation]
    portal = client.get(reverse("projects:portal")).content.decode()
    assert "Science lab" in portal and "Other lab" not in portal
    assert client.get(reverse("projects:project", args=[own.pk])).status_code == 200
    assert client.get(reverse("projects:project", args=[other.pk])).status_code == 404


def test_colleagues_are_removed_but_the_last_user_stays(client, hubs):
    client.post(reverse("projects:signup"), SIGN_UP)
    head = User.objects.get(email="Head@likoni.example")
    organisation = BeneficiaryOrganisation.objects.get()
    colleague = UserFactory(username="tom", email="tom@likoni.example")
    organisation.users.add(colleague)

    client.post(reverse("projects:team-remove", args=[organisation.pk, colleague.pk]))
    assert list(organisation.users.all()) == [head]
    client.post(reverse("projects:team-remove", args=[organisation.pk, head.pk]))
    assert list(organisation.users.all()) == [head]  # the last user cannot leave


def test_another_organisations_team_is_404(client, hubs):
    client.post(reverse("projects:signup"), SIGN_UP)
    stranger = BeneficiaryOrganisation.objects.create(
        name="Elsewhere", country="CD", place="Bukavu", contact_name="X", contact_phone="+243000000000"
    )
    response = client.post(
        reverse("projects:team-invite", args=[stranger.pk]), {f"org{stranger.pk}-email": "a@b.example"}
    )
    assert response.status_code == 404
