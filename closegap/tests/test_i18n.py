"""Which language a person reads: their own choice (switcher, profile), then Accept-Language; one address each."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hubs.factories import StaffFactory
from hubs.middleware import PROFILE_LANGUAGE_SESSION_KEY
from hubs.models import UserProfile
from hubs.services import user_language_set

pytestmark = pytest.mark.django_db

LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# --- the address says the language; "/" goes to the person's ---------------------------------------------------


@pytest.mark.parametrize(("accept", "expected"), [("fr", "/fr/"), ("nl", "/nl/"), ("fr-CD", "/fr/"), ("nl-BE", "/nl/")])
def test_the_root_redirects_by_accept_language(client, accept, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 302
    assert response["Location"] == expected
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_an_unknown_language_falls_back_to_english(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="sw-KE")["Location"] == "/en/"


def test_an_unprefixed_page_keeps_its_path_and_query(client):
    response = client.get("/public/projects/?hub=KE-NBO", HTTP_ACCEPT_LANGUAGE="nl")

    assert response["Location"] == "/nl/public/projects/?hub=KE-NBO"


def test_the_cookie_beats_accept_language(client):
    client.cookies[LANGUAGE_COOKIE] = "nl"

    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr")["Location"] == "/nl/"


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_each_page_is_shown_in_the_language_of_its_address(client, hubs, language):
    client.cookies[LANGUAGE_COOKIE] = "en"  # the address wins over any other choice: a shared link shows what it names
    with translation.override(language):
        urls = [
            reverse("impact:home"),
            reverse("impact:hub", args=["KE-NBO"]),
            reverse("login"),
            reverse("impact:widget"),
        ]

    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="nl" if language != "nl" else "fr")
        assert response.status_code == 200, url
        assert url.startswith(f"/{language}/")
        assert html_lang(response) == language, url
        assert response["Content-Language"] == language


def test_a_french_page_reads_in_french(client, hubs):
    html = client.get("/fr/").content.decode()

    assert "Réduire la fracture numérique" in html
    assert "Aller au contenu" in html
    assert "Closing the digital divide" not in html


# --- hreflang ----------------------------------------------------------------------------------------------------


def test_every_language_version_is_linked_with_hreflang(client, hubs):
    for url in ("/nl/hubs/KE-NBO/", "/nl/widget/"):
        html = client.get(url).content.decode()
        links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))
        path = url.removeprefix("/nl")
        assert links == {
            "en": f"http://testserver/en{path}",
            "fr": f"http://testserver/fr{path}",
            "nl": f"http://testserver/nl{path}",
            "x-default": f"http://testserver{path}",
        }, url


def test_hreflang_links_keep_the_query(client, hubs):
    html = client.get("/en/public/projects/?hub=KE-NBO").content.decode()

    assert '<link rel="alternate" hreflang="fr" href="http://testserver/fr/public/projects/?hub=KE-NBO">' in html


# --- the switcher -----------------------------------------------------------------------------------------------


def test_the_switcher_is_a_plain_form_with_one_button_per_language_and_no_csrf_token(client, hubs):
    html = client.get("/fr/hubs/KE-NBO/").content.decode()

    form = re.search(r'<form class="languages" method="post" action="/i18n/setlang/"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert '<input type="hidden" name="next" value="/fr/hubs/KE-NBO/">' in form.group(1)
    assert "csrfmiddlewaretoken" not in form.group(1)
    buttons = re.findall(
        r'<button type="submit" class="link" name="language" value="(\w+)" lang="(\w+)"', form.group(1)
    )
    assert buttons == [("en", "en"), ("fr", "fr"), ("nl", "nl")]
    assert re.search(r'value="fr" lang="fr" aria-current="true">Français</button>', form.group(1))
    assert ">Nederlands</button>" in form.group(1) and ">English</button>" in form.group(1)


def test_setlang_sets_the_cookie_and_goes_back_to_the_page_in_the_chosen_language(hubs):
    client = Client(enforce_csrf_checks=True)  # as a browser posts it: the form carries no token

    response = client.post("/i18n/setlang/", {"language": "nl", "next": "/fr/hubs/KE-NBO/?x=1"})

    assert response.status_code == 302
    assert response["Location"] == "/nl/hubs/KE-NBO/?x=1"
    cookie = response.cookies[LANGUAGE_COOKIE]
    assert cookie.value == "nl"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert client.get("/").headers["Location"] == "/nl/"  # remembered for the next visit


def test_setlang_keeps_an_unprefixed_next_and_refuses_another_site(client):
    assert client.post("/i18n/setlang/", {"language": "fr", "next": "/admin/"})["Location"] == "/admin/"
    assert client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})["Location"] == "/"
    assert client.post("/i18n/setlang/", {"language": "fr", "next": "//evil.example/"})["Location"] == "/"


def test_setlang_ignores_a_language_the_site_does_not_offer(client):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/en/"})

    assert response["Location"] == "/en/"
    assert LANGUAGE_COOKIE not in response.cookies


def test_setlang_only_answers_posts(client):
    assert client.get("/i18n/setlang/", {"language": "fr"}).status_code == 405


def test_the_switcher_stores_a_signed_in_persons_language_in_their_profile(client, donor_user):
    client.force_login(donor_user)

    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/en/donors/"})

    assert response["Location"] == "/fr/donors/"
    assert UserProfile.objects.get(user=donor_user).language == "fr"
    assert client.session[PROFILE_LANGUAGE_SESSION_KEY] == "fr"
    client.post("/i18n/setlang/", {"language": "nl", "next": "/fr/donors/"})
    assert UserProfile.objects.get(user=donor_user).language == "nl"  # one profile, updated


# --- the profile ------------------------------------------------------------------------------------------------


def test_after_login_the_profile_language_beats_accept_language_and_an_old_cookie(client, donor_user):
    user_language_set(user=donor_user, language="fr")
    client.cookies[LANGUAGE_COOKIE] = "nl"  # left on this browser by someone else

    response = client.post(
        reverse("login"), {"username": "donor-a", "password": "donor-a"}, HTTP_ACCEPT_LANGUAGE="nl", follow=True
    )

    assert response.redirect_chain[-1][0] == "/en/donors/"  # the address asked for keeps its language
    assert client.cookies[LANGUAGE_COOKIE].value == "fr"  # the browser now remembers the person's language
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="nl")["Location"] == "/fr/"
    assert html_lang(client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="nl")) == "fr"
    assert html_lang(client.get("/fr/donors/")) == "fr"


def test_a_person_without_a_profile_language_follows_the_cookie_and_accept_language(client, donor_user):
    client.force_login(donor_user)

    assert client.get("/", HTTP_ACCEPT_LANGUAGE="nl")["Location"] == "/nl/"
    assert not UserProfile.objects.filter(user=donor_user).exists()


def test_the_admin_answers_in_the_language_of_the_browser(client):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="fr"' in page
    assert "Nom d’utilisateur" in page


def test_the_admin_follows_a_staff_members_profile(client, hubs):
    staff = StaffFactory(username="tech-bru", hub=hubs["BE-BRU"])
    user_language_set(user=staff, language="nl")
    client.post(reverse("login"), {"username": "tech-bru", "password": "tech-bru"})

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="nl"' in page
    assert "Afmelden" in page


def test_the_admin_offers_the_language_switcher_and_it_changes_the_admins_language(client, staff_be):
    client.force_login(staff_be)
    page = client.get("/admin/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'lang="nl"' in page

    response = client.post("/i18n/setlang/", {"language": "nl", "next": "/admin/"})

    assert response["Location"] == "/admin/"
    assert '<html lang="nl"' in client.get("/admin/").content.decode()


def test_the_root_address_is_its_own_view_and_varies_by_language(client, db):
    """``/`` is the busiest address: it redirects at once (closegap.views.root), not through a 404 first."""
    from django.urls import resolve

    assert resolve("/").url_name == "root"
    response = client.get("/?utm_source=flyer", HTTP_ACCEPT_LANGUAGE="fr")
    assert (response.status_code, response["Location"]) == (302, "/fr/?utm_source=flyer")
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]
