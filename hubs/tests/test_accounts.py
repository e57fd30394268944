"""Accounts: sign-in by e-mail or username, one account per address, verification links, mail sent once."""

import importlib
import re
import threading

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.urls import reverse

from hubs.accounts import (
    AccountError,
    account_create,
    email_is_verified,
    email_verification_send,
    notification_send_once,
)
from hubs.factories import UserFactory
from hubs.models import NotificationSent

User = get_user_model()
LOGIN = "/en/accounts/login/"


@pytest.mark.parametrize("typed", ["it@donor.example", "IT@Donor.Example", "  it@donor.example "])
def test_a_person_signs_in_with_their_e_mail_address_in_any_case(client, db, typed):
    user = UserFactory(username="it-manager", email="it@donor.example", password="right-password")

    response = client.post(LOGIN, {"username": typed, "password": "right-password"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("username", ["donor-demo", "staff-ke-mba", "admin"])
def test_accounts_known_by_their_username_still_sign_in_with_it(client, db, username):
    user = UserFactory(username=username, email=f"{username}@closegap.example")

    response = client.post(LOGIN, {"username": username, "password": username})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_password_signs_nobody_in_and_the_username_still_works(db):
    UserFactory(username="one", email="one@old.example", password="pw-one-long")
    UserFactory(username="three", email="three@donor.example", password="pw-three-long")

    assert authenticate(username="three@donor.example", password="wrong") is None
    assert authenticate(username="one", password="pw-one-long").username == "one"
    assert authenticate(username="ONE@old.example", password="pw-one-long").username == "one"


def test_the_login_page_asks_for_the_e_mail_address(client, db):
    page = client.get(LOGIN).content.decode()

    assert '<label for="id_username">E-mail address</label>' in page
    assert "Or the username you were given" in page
    french = client.get("/fr/accounts/login/").content.decode()
    assert '<html lang="fr">' in french


def test_one_account_per_address_whatever_its_case(db):
    account_create(email="csr@Donor.example", password="A-long-pass-1")

    with pytest.raises(AccountError, match="already exists"):
        account_create(email="CSR@donor.EXAMPLE", password="A-long-pass-2")
    user = User.objects.get()
    assert user.email == "csr@donor.example"  # the domain in lower case, as mail servers treat it
    assert user.username == "csr@donor.example"


def test_the_verification_link_confirms_the_address_once_and_dies_when_the_address_changes(client, db):
    user = UserFactory(username="new", email="new@donor.example")
    email_verification_send(user=user)
    link = re.search(r"(/en/accounts/verify-email/\S+/)", mail.outbox[0].body).group(1)
    assert mail.outbox[0].subject == "Confirm your e-mail address for Close the Gap"
    assert not email_is_verified(user=user)

    assert client.get(link).status_code == 302
    assert email_is_verified(user=user)

    user.email = "other@donor.example"
    user.save()
    assert not email_is_verified(user=user)  # the proof was for the old address
    refused = client.get(link)
    assert refused.status_code == 400
    assert "This link cannot be used" in refused.content.decode()
    assert client.get("/en/accounts/verify-email/MQ/not-a-token/").status_code == 400


def test_the_verification_e_mail_is_in_the_persons_language(client, db):
    from hubs.services import user_language_set

    user = UserFactory(username="nl-user", email="nl@donor.example")
    user_language_set(user=user, language="nl")

    email_verification_send(user=user)

    # The link opens the Dutch pages (the text itself follows the catalogue, checked by test_translations).
    assert "http://127.0.0.1:8000/nl/accounts/verify-email/" in mail.outbox[0].body


def test_a_signed_in_person_asks_for_the_link_again(client, db):
    user = UserFactory(username="again", email="again@donor.example")
    client.force_login(user)

    response = client.post(reverse("verify-email-resend"), {"next": "/en/donors/pledge/"})

    assert response.status_code == 302 and response["Location"] == "/en/donors/pledge/"
    assert mail.outbox[0].to == ["again@donor.example"]
    # Never a redirect elsewhere.
    assert client.post(reverse("verify-email-resend"), {"next": "https://evil.example/"})["Location"] != (
        "https://evil.example/"
    )


def test_a_notification_is_sent_once_however_often_it_is_asked(db):
    sent = []

    assert notification_send_once(key="donation:1:arrived", send=lambda: sent.append(1)) is True
    assert notification_send_once(key="donation:1:arrived", send=lambda: sent.append(2)) is False

    assert sent == [1]
    assert NotificationSent.objects.filter(key="donation:1:arrived").count() == 1


def test_a_notification_that_failed_to_send_is_sent_by_the_retry(db):
    def broken() -> None:
        raise ConnectionError("mail server away")

    with pytest.raises(ConnectionError):
        notification_send_once(key="donation:2:arrived", send=broken)
    assert not NotificationSent.objects.exists()  # the claim rolled back with the failure

    sent = []
    assert notification_send_once(key="donation:2:arrived", send=lambda: sent.append(1)) is True
    assert sent == [1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_a_notification_once(run_together):
    sent = []

    def worker(barrier: threading.Barrier) -> bool:
        barrier.wait()
        return notification_send_once(key="donation:3:arrived", send=lambda: sent.append(1))

    results = run_together(worker, worker)

    assert sorted(results) == [("ok", False), ("ok", True)]
    assert sent == [1]


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, "django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_HOST": "smtp.example.org"}, "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_mail_goes_to_the_console_by_default_and_through_smtp_when_a_host_is_set(monkeypatch, environment, backend):
    for name in ("EMAIL_HOST", "EMAIL_BACKEND", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EMAIL_HOST_USER", "mailer")
    monkeypatch.setenv("EMAIL_HOST_PASSWORD", "secret")
    monkeypatch.setenv("EMAIL_PORT", "465")
    monkeypatch.setenv("EMAIL_USE_TLS", "false")
    monkeypatch.setenv("EMAIL_USE_SSL", "true")

    try:
        importlib.reload(importlib.import_module("closegap.settings.base"))
        local = importlib.reload(importlib.import_module("closegap.settings.local"))

        assert backend == local.EMAIL_BACKEND
        assert (local.EMAIL_PORT, local.EMAIL_HOST_USER, local.EMAIL_HOST_PASSWORD) == (465, "mailer", "secret")
        assert (local.EMAIL_USE_TLS, local.EMAIL_USE_SSL) == (False, True)
        assert environment.get("EMAIL_HOST", "") == local.EMAIL_HOST
    finally:
        # Leave the modules as the real environment makes them, for any later test that reads them.
        monkeypatch.undo()
        importlib.reload(importlib.import_module("closegap.settings.base"))
        importlib.reload(importlib.import_module("closegap.settings.local"))


def test_sending_links_again_is_rate_limited(client, db, settings, fresh_cache):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "email": "1/h"}
    client.force_login(UserFactory(username="eager", email="eager@donor.example"))

    assert client.post(reverse("verify-email-resend")).status_code == 302
    refused = client.post(reverse("verify-email-resend"))

    assert refused.status_code == 429 and refused["Retry-After"]
    assert len(mail.outbox) == 1


def test_the_sites_own_password_reset_finds_the_account_by_its_address_in_any_case(client, db):
    UserFactory(username="csr@donor.example", email="csr@donor.example")

    response = client.post("/en/accounts/password_reset/", {"email": "CSR@Donor.Example"}, follow=True)

    assert response.redirect_chain[-1][0] == "/en/accounts/password_reset/done/"
    assert "administration" not in response.content.decode().lower()
    assert mail.outbox[0].to == ["csr@donor.example"]


# --- one account per address, held by the database (hubs migration 0004) -------------------------------------


def test_the_database_refuses_a_second_account_with_the_same_address_in_another_case(db):
    from django.db import IntegrityError, transaction

    UserFactory(username="ana", email="Ana.Ruiz@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="ana-again", email="ana.ruiz@EXAMPLE.org")
    UserFactory(username="no-address-1", email="")
    UserFactory(username="no-address-2", email="")  # accounts without an address are left out


def test_two_sign_ups_at_once_give_the_second_a_sentence_not_a_server_error(db):
    from unittest import mock

    from django.db.models import QuerySet

    real_exists, calls = QuerySet.exists, []

    def exists_missing_the_first_sign_up(queryset) -> bool:
        calls.append(queryset)
        return False if len(calls) == 1 else real_exists(queryset)  # the check ran before the first one committed

    UserFactory(username="first", email="same@example.org")
    with (
        mock.patch.object(QuerySet, "exists", exists_missing_the_first_sign_up),
        pytest.raises(AccountError, match="already exists"),
    ):
        account_create(email="Same@example.org", password="a long passphrase 42")
    assert get_user_model().objects.filter(email__iexact="same@example.org").count() == 1


def test_the_admin_refuses_an_address_another_account_has(db):
    from django.contrib import admin

    UserFactory(username="ana", email="ana@example.org")
    bob = UserFactory(username="bob", email="bob@example.org")
    form_class = admin.site.get_model_admin(get_user_model()).form
    data = {"username": "bob", "email": "ANA@example.org", "date_joined_0": "2026-01-01", "date_joined_1": "10:00"}
    form = form_class(instance=bob, data=data)
    assert not form.is_valid() and form.errors["email"] == ["Another account has this e-mail address."]
    form = form_class(instance=bob, data={**data, "email": "Bob@example.org"})  # its own, in another case
    form.is_valid()
    assert "email" not in form.errors
