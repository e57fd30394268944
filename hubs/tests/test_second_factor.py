"""The second factor for the people who certify wipes: required for staff, optional for everyone else."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hubs.accounts.second_factor import recovery_codes_regenerate

pytestmark = pytest.mark.django_db
REQUIRED = {"SECOND_FACTOR_REQUIRED_FOR_STAFF": True, "SECOND_FACTOR_EXEMPT_USERNAMES": []}
BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def required(settings):
    for name, value in REQUIRED.items():
        setattr(settings, name, value)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def reset_throttles(user) -> None:
    """A wrong code makes the next try wait (django-otp's throttle); tests go on at once."""
    for device in devices_for_user(user, confirmed=None):
        device.throttle_reset()


def confirmed_device(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device, recovery_codes_regenerate(user=user)


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, staff_ke_mba, required):
    client.force_login(staff_ke_mba)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-setup"))
    assert "next=%2Fadmin%2F" in response["Location"]
    # The scan station and the staff pages of the API are behind the same door.
    assert client.get("/scan/")["Location"].startswith(reverse("two-factor-setup"))
    api = client.get("/api/v1/devices/")
    assert api.status_code == 403
    assert "second factor" in api.json()["detail"]


def test_setting_up_an_authenticator_shows_recovery_codes_and_opens_the_admin(client, staff_ke_mba, required):
    client.force_login(staff_ke_mba)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, drawn inline (no image request, no CDN)
    device = TOTPDevice.objects.get(user=staff_ke_mba, confirmed=False)
    wrong = client.post(reverse("two-factor-setup"), {"token": "000000" if current_code(device) != "000000" else "1"})
    assert wrong.status_code == 200 and "not the one your app shows" in wrong.content.decode()
    reset_throttles(staff_ke_mba)
    done = client.post(reverse("two-factor-setup"), {"token": current_code(device), "next": "/admin/"})
    assert done.status_code == 200
    assert StaticToken.objects.filter(device__user=staff_ke_mba).count() == 10
    for token in StaticToken.objects.filter(device__user=staff_ke_mba):
        assert token.token in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_a_new_session_asks_for_the_code_and_a_recovery_code_works_once(client, staff_ke_mba, required):
    device, codes = confirmed_device(staff_ke_mba)
    client.force_login(staff_ke_mba)
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("two-factor-verify"))
    refused = client.post(reverse("two-factor-verify"), {"token": "12345678", "next": "/admin/"})
    assert refused.status_code == 200 and "not accepted" in refused.content.decode()
    reset_throttles(staff_ke_mba)
    accepted = client.post(reverse("two-factor-verify"), {"token": codes[0], "next": "/admin/"})
    assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # The same recovery code does not open a second session.
    client.logout()
    client.force_login(staff_ke_mba)
    reset_throttles(staff_ke_mba)
    again = client.post(reverse("two-factor-verify"), {"token": codes[0], "next": "/admin/"})
    assert again.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_the_verify_page_refuses_an_offsite_next(client, staff_ke_mba, required):
    device, _ = confirmed_device(staff_ke_mba)
    client.force_login(staff_ke_mba)
    response = client.post(
        reverse("two-factor-verify"), {"token": current_code(device), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_donors_need_no_second_factor_but_may_turn_one_on(client, donor_user, required):
    client.force_login(donor_user)
    assert client.get(reverse("donations:portal")).status_code == 200
    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=donor_user)
    client.post(reverse("two-factor-setup"), {"token": current_code(device)})
    client.logout()
    client.force_login(donor_user)
    assert client.get(reverse("donations:portal"))["Location"].startswith(reverse("two-factor-verify"))
    # They may turn it off again (after entering it: a recovery code, as the app's code was just used); staff
    # may not.
    recovery = StaticToken.objects.filter(device__user=donor_user).first().token
    assert client.post(reverse("two-factor-verify"), {"token": recovery}).status_code == 302
    client.post(reverse("two-factor-off"))
    assert not TOTPDevice.objects.filter(user=donor_user).exists()


def test_staff_cannot_turn_their_second_factor_off(client, staff_ke_mba, required):
    device, _ = confirmed_device(staff_ke_mba)
    client.force_login(staff_ke_mba)
    client.post(reverse("two-factor-verify"), {"token": current_code(device)})
    client.post(reverse("two-factor-off"))
    assert TOTPDevice.objects.filter(user=staff_ke_mba).exists()


def test_exempt_usernames_skip_it(client, staff_ke_mba, settings):
    settings.SECOND_FACTOR_REQUIRED_FOR_STAFF = True
    settings.SECOND_FACTOR_EXEMPT_USERNAMES = ["staff-ke-mba"]
    client.force_login(staff_ke_mba)
    assert client.get("/admin/").status_code == 200


# --- API tokens --------------------------------------------------------------------------------------------


def test_a_staff_token_needs_the_code_with_the_password(api_client, staff_ke_mba, required):
    device, _ = confirmed_device(staff_ke_mba)
    url = reverse("api-auth-token")
    missing = api_client.post(url, {"username": "staff-ke-mba", "password": "staff-ke-mba"}, format="json")
    assert missing.status_code == 400
    assert "otp_token" in missing.json()["errors"]
    assert not Token.objects.filter(user=staff_ke_mba).exists()
    wrong = api_client.post(
        url, {"username": "staff-ke-mba", "password": "staff-ke-mba", "otp_token": "99999999"}, format="json"
    )
    assert wrong.status_code == 400 and not Token.objects.filter(user=staff_ke_mba).exists()
    reset_throttles(staff_ke_mba)
    right = api_client.post(
        url, {"username": "staff-ke-mba", "password": "staff-ke-mba", "otp_token": current_code(device)}, format="json"
    )
    assert right.status_code == 200
    assert right.json()["token"] == Token.objects.get(user=staff_ke_mba).key


def test_staff_without_a_second_factor_get_no_token(api_client, staff_ke_mba, required):
    response = api_client.post(
        reverse("api-auth-token"), {"username": "staff-ke-mba", "password": "staff-ke-mba"}, format="json"
    )
    assert response.status_code == 400
    assert not Token.objects.filter(user=staff_ke_mba).exists()


def test_a_donor_gets_a_token_with_the_password_alone(api_client, donor_user, required):
    response = api_client.post(reverse("api-auth-token"), {"username": "donor-a", "password": "donor-a"}, format="json")
    assert response.status_code == 200


def test_the_owner_revokes_their_token(api_client, donor_user):
    token = Token.objects.create(user=donor_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.delete(reverse("api-auth-token-current")).status_code == 204
    assert not Token.objects.filter(user=donor_user).exists()
    assert api_client.get("/api/v1/hubs/").status_code == 401


def test_tokens_are_made_and_revoked_on_the_account_page(client, staff_ke_mba, required):
    device, _ = confirmed_device(staff_ke_mba)
    client.force_login(staff_ke_mba)
    # Not before the second factor...
    assert client.post(reverse("api-token"))["Location"].startswith(reverse("two-factor-verify"))
    assert not Token.objects.filter(user=staff_ke_mba).exists()
    client.post(reverse("two-factor-verify"), {"token": current_code(device)})
    shown = client.post(reverse("api-token"), {"action": "create"})
    key = Token.objects.get(user=staff_ke_mba).key
    assert key in shown.content.decode()
    client.post(reverse("api-token"), {"action": "revoke"})
    assert not Token.objects.filter(user=staff_ke_mba).exists()


def test_a_superuser_revokes_anyones_token_in_the_admin(client, superuser, donor_user):
    token = Token.objects.create(user=donor_user)
    client.force_login(superuser)
    response = client.post(f"/admin/authtoken/tokenproxy/{donor_user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(key=token.key).exists()


# --- Which settings require it ----------------------------------------------------------------------------


def _settings_value(module: str, expression: str, **env: str) -> str:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        **env,
    }
    environment.pop("DJANGO_READ_DOT_ENV_FILE", None)
    code = f"import django; django.setup(); from django.conf import settings; print(({expression}))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_production_requires_it_for_every_staff_account_whatever_the_environment_says():
    expression = "settings.SECOND_FACTOR_REQUIRED_FOR_STAFF, settings.SECOND_FACTOR_EXEMPT_USERNAMES"
    assert _settings_value("closegap.settings.production", expression) == "(True, [])"
    relaxed = _settings_value(
        "closegap.settings.production",
        expression,
        SECOND_FACTOR_REQUIRED_FOR_STAFF="false",
        SECOND_FACTOR_EXEMPT_USERNAMES="admin",
    )
    assert relaxed == "(True, [])"


def test_only_the_local_default_exempts_the_demo_accounts():
    local = _settings_value("closegap.settings.local", "settings.SECOND_FACTOR_EXEMPT_USERNAMES")
    for username in ("admin", "staff-be-bru", "staff-ke-mba", "staff-ke-nbo", "staff-za-jnb", "staff-cd-fih"):
        assert repr(username) in local
    assert _settings_value("closegap.settings.local", "settings.SECOND_FACTOR_REQUIRED_FOR_STAFF") == "True"
