"""common/security.py: the security headers on each kind of page, and how long staff sessions last."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split("; ")}


STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def assert_strict(response) -> None:
    policy = directives(response)
    assert {name: policy[name] for name in STRICT} == STRICT
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def assert_refuses_framing(response) -> None:
    assert directives(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "url",
    [
        "/en/",
        "/en/public/projects/",
        "/en/accounts/login/",
        "/admin/login/",
        "/api/v1/impact/",
        "/api/docs/",
    ],
)
def test_every_page_but_the_widget_has_the_strict_policy_and_refuses_framing(client, url, fresh_cache):
    response = client.get(url)
    assert response.status_code == 200
    assert_strict(response)
    assert_refuses_framing(response)


def test_a_donors_page_has_the_strict_policy_and_refuses_framing(client, donor_user):
    client.force_login(donor_user)
    response = client.get(reverse("donations:portal"))
    assert response.status_code == 200
    assert_strict(response)
    assert_refuses_framing(response)


def test_the_admin_has_the_strict_policy_and_refuses_framing(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert_strict(response)
    assert_refuses_framing(response)


def test_the_widget_alone_may_be_framed_by_other_sites(client, fresh_cache):
    response = client.get(reverse("impact:widget"))
    assert response.status_code == 200
    assert_strict(response)
    assert directives(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response


def test_every_answer_sends_permissions_referrer_and_opener_policies(client):
    response = client.get("/en/")
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# A <script> without src (JSON data blocks are not run, so CSP allows them), a <style> element, or a style= or
# on...= attribute inside a tag. Markup shown as text (&lt;iframe style=...&gt; for partners to copy) is not a tag.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style[\s>]|<[a-zA-Z][^>]*\s(?:style|on[a-z]+)="
)


def test_no_template_has_an_inline_script_or_style():
    inline = [
        f"{template.relative_to(settings.BASE_DIR)}: {match.group()}"
        for template in (settings.BASE_DIR / "templates").rglob("*.html")
        for match in INLINE.finditer(template.read_text())
    ]
    assert inline == []


def test_a_staff_session_ends_after_a_working_day_idle(client, staff_ke_mba):
    client.force_login(staff_ke_mba)
    client.get("/en/")
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_SECONDS == 8 * 60 * 60
    assert client.session.get_expire_at_browser_close() is False


def test_a_superuser_session_ends_after_a_working_day_idle(client, superuser):
    client.force_login(superuser)
    client.get(reverse("admin:index"))
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_SECONDS


def test_each_staff_request_restarts_the_idle_clock(client, staff_ke_mba, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 60
    client.force_login(staff_ke_mba)
    client.get("/en/")
    first_expiry = client.session.get_expiry_date()
    client.get("/en/")
    assert client.session.get_expiry_date() >= first_expiry
    assert client.session["_session_expiry"] == 60


def test_a_donors_session_keeps_the_site_wide_age(client, donor_user):
    client.force_login(donor_user)
    client.get(reverse("donations:portal"))
    assert "_session_expiry" not in client.session
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_a_password_change_signs_the_other_sessions_out(staff_ke_mba):
    here, elsewhere = Client(), Client()
    here.force_login(staff_ke_mba)
    elsewhere.force_login(staff_ke_mba)
    assert elsewhere.get(reverse("donations:portal")).wsgi_request.user.is_authenticated

    response = here.post(
        reverse("password_change"),
        {
            "old_password": "staff-ke-mba",
            "new_password1": "a-new-long-passphrase-9",
            "new_password2": "a-new-long-passphrase-9",
        },
    )

    assert response.status_code == 302
    assert here.get("/en/").wsgi_request.user.is_authenticated  # the session that changed it stays in
    assert not elsewhere.get("/en/").wsgi_request.user.is_authenticated
