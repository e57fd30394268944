"""Password reset is the site's own: its pages, its e-mail, in the person's language."""

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_login_links_to_the_sites_own_password_reset_page(client):
    login = client.get("/fr/accounts/login/").content.decode()
    assert '<a href="/fr/accounts/password_reset/">Mot de passe oublié\u00a0?</a>' in login

    page = client.get("/fr/accounts/password_reset/").content.decode()

    assert '<html lang="fr">' in page
    assert 'class="site-header"' in page  # the site's frame, not the admin's
    assert "administration" not in page.lower()
    assert "<h1>Réinitialiser votre mot de passe</h1>" in page
    assert 'for="id_email"' in page


def test_a_person_resets_their_password_in_french_from_the_e_mail_to_the_end(client, donor_user):
    response = client.post("/fr/accounts/password_reset/", {"email": donor_user.email}, follow=True)

    assert response.redirect_chain[-1][0] == "/fr/accounts/password_reset/done/"
    assert "<h1>Consultez vos e-mails</h1>" in response.content.decode()
    (email,) = mail.outbox
    assert email.subject == "Choisissez un nouveau mot de passe pour Close the Gap"
    assert "Bonjour donor-a," in email.body
    link = re.search(r"http://testserver(/fr/accounts/reset/\S+/)", email.body).group(1)

    form_page = client.get(link, follow=True)
    assert "<h1>Choisissez un nouveau mot de passe</h1>" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    mismatch = client.post(set_password_url, {"new_password1": "A-long-new-pass-1", "new_password2": "other"})
    assert 'id="error-summary"' in mismatch.content.decode()

    done = client.post(
        set_password_url, {"new_password1": "A-long-new-pass-1", "new_password2": "A-long-new-pass-1"}, follow=True
    )

    assert done.redirect_chain[-1][0] == "/fr/accounts/reset/done/"
    assert "<h1>Votre mot de passe a été modifié</h1>" in done.content.decode()
    donor_user.refresh_from_db()
    assert donor_user.check_password("A-long-new-pass-1")


def test_a_used_reset_link_says_so_and_offers_a_new_one(client):
    page = client.get("/en/accounts/reset/MQ/set-password/").content.decode()

    assert "This link has already been used or is out of date." in page
    assert 'href="/en/accounts/password_reset/"' in page
