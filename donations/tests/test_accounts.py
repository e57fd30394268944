"""Donor accounts: sign-up by e-mail with the organisation's details, invitations, removal, and scoping."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from donations.factories import DonationFactory, DonorFactory
from donations.models import Donor
from hubs.accounts import email_is_verified
from hubs.factories import UserFactory
from hubs.models import Invitation

User = get_user_model()

SIGN_UP = {
    "legal_name": "Brightside Consulting BV",
    "registration_number": "BE0123456789",
    "country": "ZA",
    "address": "Main Street 1, Johannesburg",
    "contact_name": "Thandi Nkosi",
    "contact_phone": "+27 11 555 0144",
    "email": "csr@brightside.example",
    "password1": "Refurbish-2-schools",
    "password2": "Refurbish-2-schools",
}


def error_summary(response) -> list[str]:
    html = response.content.decode()
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</ul>")]
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r'<a href="#id_\w+">([^<]+)</a>', summary)]


# --- sign-up ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "options"),
    [
        ("en", ['<option value="BE">Belgium</option>', '<option value="ZA">South Africa</option>']),
        ("fr", ['<option value="BE">Belgique</option>', '<option value="ZA">Afrique du Sud</option>']),
        ("nl", ['<option value="BE">België</option>', '<option value="ZA">Zuid-Afrika</option>']),
    ],
)
def test_the_country_is_chosen_from_the_full_list_named_in_the_readers_language(client, db, language, options):
    page = client.get(f"/{language}/donors/sign-up/").content.decode()

    assert '<select name="country"' in page
    for option in options:
        assert option in page
    assert 'name="username"' not in page  # no username to invent


def test_sign_up_stores_the_whole_country_and_the_contact(client, db):
    assert client.post(reverse("donations:signup"), SIGN_UP).status_code == 302

    donor = Donor.objects.get()
    assert donor.country.code == "ZA" and donor.country.name == "South Africa"
    assert (donor.contact_name, donor.contact_phone) == ("Thandi Nkosi", "+27 11 555 0144")
    user = donor.users.get()
    assert user.email == "csr@brightside.example"
    assert not email_is_verified(user=user)
    assert mail.outbox[0].to == ["csr@brightside.example"]


def test_sign_up_errors_name_their_field(client, db):
    UserFactory(username="taken", email="CSR@brightside.example")
    mistakes = SIGN_UP | {
        "country": "Belgium",
        "contact_name": "",
        "contact_phone": "call me",
        "email": "csr@brightside.example",
    }

    response = client.post(reverse("donations:signup"), mistakes)

    assert response.status_code == 200
    summary = error_summary(response)
    assert "Country: Select a valid choice. Belgium is not one of the available choices." in summary
    assert "Contact person: This field is required." in summary
    assert any(line.startswith("Contact phone: Enter a phone number of 7 to 15 digits") for line in summary)
    assert "E-mail address: An account with this e-mail address already exists. Log in, or reset your password." in (
        summary
    )
    assert not Donor.objects.exists()


@pytest.mark.parametrize("phone", ["+32 2 555 12 34", "0032 (2) 555-12-34", "+254 20 555 0123", "011 555 0144"])
def test_phone_numbers_as_people_write_them_are_accepted(client, db, phone):
    assert client.post(reverse("donations:signup"), SIGN_UP | {"contact_phone": phone}).status_code == 302


@pytest.mark.parametrize("phone", ["12345", "+32 2 555 12 34 56 78 90 12", "32+2555", "abc 555 1234"])
def test_phone_numbers_that_cannot_be_dialled_are_refused(client, db, phone):
    response = client.post(reverse("donations:signup"), SIGN_UP | {"contact_phone": phone})

    assert response.status_code == 200
    assert any(line.startswith("Contact phone:") for line in error_summary(response))


# --- invitations --------------------------------------------------------------------------------------------


@pytest.fixture
def invite(client, django_capture_on_commit_callbacks):
    """``invite(donor_user, email)``: the donor user sends the invitation; its e-mail goes after commit."""

    def send(donor_user, email: str):
        donor = donor_user.donors.get()
        client.force_login(donor_user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("donations:team-invite", args=[donor.pk]), {f"donor{donor.pk}-email": email})

    return send


def test_a_colleague_is_invited_by_e_mail_chooses_a_password_and_joins_the_organisation(client, donor_user, invite):
    donation = DonationFactory(donor=donor_user.donors.get())
    assert invite(donor_user, "Colleague@Acme.example").status_code == 302
    (email,) = mail.outbox
    assert email.to == ["Colleague@acme.example"]
    assert "Acme NV" in email.subject
    link = re.search(r"http://testserver(/en/accounts/invitation/\S+/)", email.body).group(1)
    team_page = client.get(reverse("donations:team")).content.decode()
    assert "Colleague@acme.example" in team_page  # waiting for an answer

    client.logout()
    form = client.get(link)
    assert form.status_code == 200 and "Join Acme NV" in form.content.decode()
    weak = client.post(link, {"first_name": "Ann", "last_name": "Peeters", "new_password1": "x", "new_password2": "x"})
    assert 'id="error-summary"' in weak.content.decode()
    joined = client.post(
        link,
        {
            "first_name": "Ann",
            "last_name": "Peeters",
            "new_password1": "Wipe-all-disks-9",
            "new_password2": "Wipe-all-disks-9",
        },
    )

    assert joined.status_code == 302 and joined["Location"] == reverse("donations:portal")
    colleague = User.objects.get(email="Colleague@acme.example")
    assert colleague.get_full_name() == "Ann Peeters"
    assert list(colleague.donors.all()) == [donor_user.donors.get()]
    assert email_is_verified(user=colleague)  # the link proved the address
    assert client.get(reverse("donations:detail", args=[donation.reference])).status_code == 200
    # The link works once.
    client.logout()
    assert client.get(link).status_code == 404
    # The colleague signs in with the address.
    assert client.post("/en/accounts/login/", {"username": "colleague@acme.example", "password": "Wipe-all-disks-9"})[
        "Location"
    ]


def test_someone_who_has_an_account_accepts_once_logged_in_with_the_invited_address(client, donor_user, invite):
    existing = UserFactory(username="existing", email="existing@acme.example")
    invite(donor_user, "existing@acme.example")
    link = re.search(r"http://testserver(/en/accounts/invitation/\S+/)", mail.outbox[0].body).group(1)

    client.force_login(UserFactory(username="someone-else"))
    assert client.post(link).status_code == 200
    assert not existing.donors.exists()
    client.force_login(existing)
    accepted = client.post(link)

    assert accepted.status_code == 302
    assert list(existing.donors.all()) == [donor_user.donors.get()]


def test_an_invitation_can_be_withdrawn_and_its_link_dies(client, donor_user, invite):
    invite(donor_user, "late@acme.example")
    link = re.search(r"http://testserver(/en/accounts/invitation/\S+/)", mail.outbox[0].body).group(1)
    invitation = Invitation.objects.get()
    donor = donor_user.donors.get()

    client.post(reverse("donations:team-withdraw", args=[donor.pk, invitation.pk]))

    client.logout()
    assert client.get(link).status_code == 404
    assert client.get(link[:-5] + "xxxx/").status_code == 404  # a tampered link too


def test_a_member_is_not_invited_twice_and_bad_addresses_are_refused(client, donor_user, invite):
    response = invite(donor_user, donor_user.email.upper())
    assert response.status_code == 400
    assert "already a user of Acme NV" in response.content.decode()
    assert invite(donor_user, "not an address").status_code == 400
    assert mail.outbox == []


# --- removal and scoping ------------------------------------------------------------------------------------


def test_a_user_removes_a_colleague_who_then_sees_nothing_of_the_organisation(client, donor_user):
    donor = donor_user.donors.get()
    colleague = UserFactory(username="colleague")
    donor.users.add(colleague)
    donation = DonationFactory(donor=donor)
    client.force_login(donor_user)

    assert client.post(reverse("donations:team-remove", args=[donor.pk, colleague.pk])).status_code == 302

    assert list(donor.users.all()) == [donor_user]
    client.force_login(colleague)
    assert client.get(reverse("donations:detail", args=[donation.reference])).status_code == 404


def test_the_last_user_cannot_leave(client, donor_user):
    donor = donor_user.donors.get()
    client.force_login(donor_user)

    response = client.post(reverse("donations:team-remove", args=[donor.pk, donor_user.pk]), follow=True)

    assert "You are the organisation&#x27;s last user" in response.content.decode()
    assert list(donor.users.all()) == [donor_user]


def test_a_user_who_is_not_the_last_may_leave(client, donor_user):
    donor = donor_user.donors.get()
    donor.users.add(UserFactory(username="stays"))
    client.force_login(donor_user)

    client.post(reverse("donations:team-remove", args=[donor.pk, donor_user.pk]))

    assert not donor.users.filter(pk=donor_user.pk).exists()


def test_another_organisations_team_is_a_404_everywhere(client, donor_user):
    other = DonorFactory(legal_name="Other Corp")
    outsider = UserFactory(username="outsider")
    other.users.add(outsider)
    own = donor_user.donors.get()
    client.force_login(donor_user)

    assert (
        client.post(
            reverse("donations:team-invite", args=[other.pk]), {f"donor{other.pk}-email": "x@y.example"}
        ).status_code
        == 404
    )
    assert client.post(reverse("donations:team-remove", args=[other.pk, outsider.pk])).status_code == 404
    # Someone else's user through one's own organisation's address: not one of ours either.
    assert client.post(reverse("donations:team-remove", args=[own.pk, outsider.pk])).status_code == 404
    invitation = Invitation.objects.create(kind="donor", target_id=other.pk, email="z@other.example")
    client.post(reverse("donations:team-withdraw", args=[other.pk, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert "Other Corp" not in client.get(reverse("donations:team")).content.decode()
    assert list(other.users.all()) == [outsider]


def test_pages_need_a_login(client, db):
    for url in (reverse("donations:team"), reverse("donations:portal"), reverse("donations:pledge")):
        assert client.get(url)["Location"].startswith("/en/accounts/login/")
