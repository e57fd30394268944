"""One error body for the whole API, {"detail": "...", "errors": {...}}, whatever refused the request."""

from urllib.parse import urlencode

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from hubs.api import AuthTokenThrottle
from refurbishing.factories import DeviceFactory

TOKEN_URL = "/api/v1/auth/token/"


def assert_error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(isinstance(messages, list) for messages in body["errors"].values())
    return body


def test_a_body_that_is_not_utf8_json_is_refused_with_the_error_body(db):
    response = APIClient().post(TOKEN_URL, data=b'{"username": "\xff"}', content_type="application/json")
    body = assert_error_body(response, 400)
    assert "JSON parse error" in body["detail"]
    assert body["errors"] == {}


def test_a_transition_with_a_body_that_is_not_json_is_refused_with_the_error_body(staff_ke_mba, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(staff_ke_mba).post(
        f"/api/v1/devices/{device.pk}/transitions/", data=b"\x00", content_type="application/json"
    )
    assert_error_body(response, 400)


def test_an_invalid_filter_names_the_field(staff_ke_mba, token_client):
    body = assert_error_body(token_client(staff_ke_mba).get("/api/v1/devices/?state=teleported"), 400)
    assert list(body["errors"]) == ["state"]
    assert "teleported" in body["errors"]["state"][0]


def test_an_unknown_id_and_an_id_that_matches_no_url_answer_the_same_json_404(staff_ke_mba, token_client):
    client = token_client(staff_ke_mba)
    assert_error_body(client.get("/api/v1/hubs/999999/"), 404)
    # Not a number: no API route matches, so Django's own 404 answers, in the API's shape under /api/.
    assert_error_body(client.get("/api/v1/devices/not-a-number/"), 404)
    assert_error_body(client.get("/api/v1/devices/?cursor=bogus"), 404)


def test_pages_outside_the_api_keep_their_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_operation_does_not_have_answers_405_with_the_error_body(staff_ke_mba, token_client):
    assert_error_body(token_client(staff_ke_mba).delete("/api/v1/hubs/"), 405)


@pytest.fixture
def one_token_request_per_minute(monkeypatch):
    monkeypatch.setattr(AuthTokenThrottle, "THROTTLE_RATES", {"auth_token": "1/minute"})
    # A history of its own, so neither an earlier test nor a shared Redis has counted requests already.
    monkeypatch.setattr(AuthTokenThrottle, "cache", LocMemCache("throttle-test", {}))


def test_a_throttled_token_request_answers_429_with_retry_after(staff_ke_mba, one_token_request_per_minute):
    client = APIClient()
    credentials = {"username": "staff-ke-mba", "password": "staff-ke-mba"}
    assert client.post(TOKEN_URL, credentials, format="json").status_code == 200
    response = client.post(TOKEN_URL, credentials, format="json")
    assert_error_body(response, 429)
    assert int(response["Retry-After"]) > 0


# A NUL character (found by schemathesis: `"hub": "...\u0000..."` in a pledge). PostgreSQL cannot compare text
# holding one, so a lookup by it raised a database error, a 500; SQLite answered "not found". Both now answer 400
# before any lookup.
NUL_REFUSED = "Text in the request body may not contain NUL (\\u0000) characters."


def test_a_json_body_with_a_nul_character_is_refused_before_any_lookup(donor_user, hubs, token_client):
    pledge = {
        "hub": "BE-\u0000BRU",
        "pickup_address": "Rue Haute 1",
        "devices": [{"category": "laptop", "manufacturer": "HP"}],
    }
    body = assert_error_body(token_client(donor_user).post("/api/v1/donations/", pledge, format="json"), 400)
    assert body["detail"] == NUL_REFUSED  # not the hub field's "does not exist": no lookup ran


@pytest.mark.parametrize("field", ["hub", "pickup_address", "notes"])
def test_a_form_field_with_a_nul_character_is_refused_before_any_lookup(donor_user, hubs, field):
    client = APIClient()
    client.force_authenticate(donor_user)
    data = {"hub": "BE-BRU", "pickup_address": "Rue Haute 1", field: "ab\x00cd"}
    for response in (
        client.post("/api/v1/donations/", data, format="multipart"),
        client.post("/api/v1/donations/", urlencode(data), content_type="application/x-www-form-urlencoded"),
    ):
        body = assert_error_body(response, 400)
        assert "NUL character" in body["detail"]  # refused as a whole, before the serializer saw any field


@pytest.mark.parametrize(
    "path", ["/en/projects/?hub=BE%00", "/scan/?code=5CG%00", "/api/v1/devices/?hub=BE%00", "/en/donors/%00/"]
)
def test_an_address_with_a_nul_character_is_a_400(path, client, staff_ke_mba):
    client.force_login(staff_ke_mba)
    response = client.get(path)
    assert response.status_code == 400


@pytest.mark.postgres
def test_on_postgresql_a_pledge_naming_a_hub_with_a_nul_character_is_a_400_not_a_500(donor_user, hubs, token_client):
    pledge = {"hub": "BE-BRU\u0000", "pickup_address": "x", "devices": [{"category": "laptop", "manufacturer": "HP"}]}
    assert_error_body(token_client(donor_user).post("/api/v1/donations/", pledge, format="json"), 400)
