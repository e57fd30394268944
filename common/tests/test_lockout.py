"""Sign-in lockout (django-axes) on the three doors: the site's login, the admin login, the API token."""

import importlib
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.urls import reverse
from rest_framework.test import APIClient

from hubs.factories import UserFactory

LOGIN = "/en/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"
OTHER_ADDRESS = "10.0.0.2"


@pytest.fixture(autouse=True)
def lockout_on(settings, fresh_cache):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client, door: str, username: str, password: str, address: str = "127.0.0.1"):
    data = {"username": username, "password": password}
    if door == TOKEN:
        return APIClient().post(door, data, REMOTE_ADDR=address)
    return client.post(door, data, REMOTE_ADDR=address)


def signed_in(response, door: str) -> bool:
    return response.status_code == (200 if door == TOKEN else 302)


@pytest.mark.parametrize("door", [LOGIN, ADMIN_LOGIN, TOKEN])
def test_an_account_is_locked_after_the_limit_even_with_the_right_password(client, db, door):
    UserFactory(username="tech", password="right-password", is_staff=True)
    for _ in range(3):
        assert not signed_in(sign_in(client, door, "tech", "wrong"), door)

    response = sign_in(client, door, "tech", "right-password")

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    if door == TOKEN:
        body = response.json()
        assert body == {"detail": "Too many failed sign-ins. Try again in 15 minutes.", "errors": {}}
        assert "token" not in body
    else:
        assert "Try again in 15 minutes" in response.content.decode()


@pytest.mark.parametrize("door", [LOGIN, ADMIN_LOGIN, TOKEN])
def test_the_lock_is_per_account_and_per_address(client, db, door):
    UserFactory(username="tech", password="right-password", is_staff=True)
    UserFactory(username="other", password="other-password", is_staff=True)
    for _ in range(3):
        sign_in(client, door, "tech", "wrong")

    # The account is locked from any address...
    assert sign_in(client, door, "tech", "right-password", address=OTHER_ADDRESS).status_code == 429
    # ...and the address is locked for any account.
    assert sign_in(client, door, "other", "other-password").status_code == 429
    # Another account from another address signs in.
    assert signed_in(sign_in(client, door, "other", "other-password", address=OTHER_ADDRESS), door)


@pytest.mark.parametrize("door", [LOGIN, ADMIN_LOGIN, TOKEN])
def test_the_lock_lifts_by_itself_after_the_cool_off(client, db, settings, door):
    UserFactory(username="tech", password="right-password", is_staff=True)
    for _ in range(3):
        sign_in(client, door, "tech", "wrong")
    assert sign_in(client, door, "tech", "right-password").status_code == 429

    # As if the cool-off had passed since the last failure.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert signed_in(sign_in(client, door, "tech", "right-password"), door)


def test_the_locked_page_speaks_french(client, db):
    for _ in range(3):
        client.post("/fr/accounts/login/", {"username": "tech", "password": "wrong"})

    response = client.post("/fr/accounts/login/", {"username": "tech", "password": "wrong"})

    assert response.status_code == 429
    assert "Réessayez dans 15 minutes" in response.content.decode()


def test_staff_sign_ins_are_recorded_and_listed_for_superusers_only(client, db, superuser, staff_be):
    client.post(ADMIN_LOGIN, {"username": "admin", "password": "wrong"})
    client.post(ADMIN_LOGIN, {"username": "admin", "password": "admin"})

    assert AccessFailureLog.objects.filter(username="admin").count() == 1
    assert AccessLog.objects.filter(username="admin").count() == 1
    for name in ("accessattempt", "accesslog", "accessfailurelog"):
        assert client.get(reverse(f"admin:axes_{name}_changelist")).status_code == 200
    listing = client.get(reverse("admin:axes_accesslog_changelist")).content.decode()
    assert "admin" in listing

    client.force_login(staff_be)
    assert client.get(reverse("admin:axes_accesslog_changelist")).status_code == 403
    assert "axes" not in client.get(reverse("admin:index")).content.decode().lower()


def test_the_local_settings_lock_out_guessing():
    local = importlib.import_module("closegap.settings.local")

    assert local.AXES_ENABLED is True
    assert local.AXES_FAILURE_LIMIT == 5
    assert local.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert local.AUTHENTICATION_BACKENDS[0].startswith("axes.backends.")
    assert "axes.middleware.AxesMiddleware" in local.MIDDLEWARE
    assert local.RATE_LIMITS_ENABLED is True
    assert set(local.RATE_LIMITS) == {"signup", "pledge", "password_reset", "email", "hardware_report", "asset_import"}


@pytest.mark.parametrize("door", [LOGIN, TOKEN])
def test_failures_count_per_account_whether_the_address_or_the_username_was_typed(client, db, door):
    UserFactory(username="donor-x", email="It@Donor.example", password="right-password")
    sign_in(client, door, "donor-x", "wrong")
    sign_in(client, door, "it@donor.example", "wrong", address=OTHER_ADDRESS)
    sign_in(client, door, "IT@DONOR.EXAMPLE", "wrong", address="10.0.0.3")

    # Three failures from three addresses, typed three ways: the one account is locked.
    assert sign_in(client, door, "it@donor.example", "right-password", address="10.0.0.4").status_code == 429
    assert sign_in(client, door, "donor-x", "right-password", address="10.0.0.5").status_code == 429
