"""Rate limits on the forms that create things for anonymous or new people: sign-up, pledge, password reset."""

from unittest import mock

import pytest
from django.urls import reverse

from common.ratelimit import parse_rate


@pytest.fixture(autouse=True)
def limits_on(settings, fresh_cache):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMITS = {"signup": "2/h", "pledge": "2/m", "password_reset": "2/h"}


def test_rates_read_as_count_per_period():
    assert parse_rate("5/h") == (5, 3600)
    assert parse_rate("30/minute") == (30, 60)
    assert parse_rate("100/d") == (100, 86400)


@pytest.mark.parametrize(
    ("url_name", "window"),
    [("donations:signup", 3600), ("donations:pledge", 60), ("password_reset", 3600)],
)
def test_past_the_limit_a_form_answers_429_with_retry_after(client, donor_user, url_name, window):
    client.force_login(donor_user)
    url = reverse(url_name)
    with mock.patch("common.ratelimit.time.time", return_value=window * 1000 + 10):
        for _ in range(2):
            assert client.post(url, {}).status_code != 429
        response = client.post(url, {})

    assert response.status_code == 429
    assert response["Retry-After"] == str(window - 10)
    assert "This form was sent too many times from your address" in response.content.decode()
    # Reading the form is never limited.
    assert client.get(url).status_code == 200


def test_the_limit_is_per_address_and_lifts_in_the_next_window(client, db):
    url = reverse("donations:signup")
    with mock.patch("common.ratelimit.time.time", return_value=3600 * 1000):
        for _ in range(2):
            client.post(url, {})
        assert client.post(url, {}).status_code == 429
        assert client.post(url, {}, REMOTE_ADDR="10.0.0.2").status_code == 200
    with mock.patch("common.ratelimit.time.time", return_value=3600 * 1001):
        assert client.post(url, {}).status_code == 200


def test_the_429_page_speaks_french_and_dutch(client, db):
    for language, text in (("fr", "Réessayez dans"), ("nl", "Probeer het over")):
        url = f"/{language}/accounts/password_reset/"
        with mock.patch("common.ratelimit.time.time", return_value=3600 * 1000):
            for _ in range(2):
                client.post(url, {"email": "nobody@example.org"}, REMOTE_ADDR=language)
            response = client.post(url, {"email": "nobody@example.org"}, REMOTE_ADDR=language)
        assert response.status_code == 429
        assert text in response.content.decode()


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("donations:signup")
    with mock.patch("common.ratelimit.time.time", return_value=3600 * 1000):
        for _ in range(2):
            client.post(url, {}, HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.7")
        # A forged entry to the left changes nothing; another client behind the same proxy is not limited.
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR="other, 203.0.113.7").status_code == 429
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200
