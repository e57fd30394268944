"""The public impact JSON at /api/v1/impact/: totals, caching headers, ETag, CORS, no query when warm."""

import pytest
from rest_framework.test import APIClient

from refurbishing.factories import devices_received

IMPACT = "/api/v1/impact/"

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_impact_is_public_and_has_the_totals(hubs):
    response = APIClient().get(IMPACT, HTTP_ORIGIN="https://partner.example")
    assert response.status_code == 200
    body = response.json()
    for field in (
        "devices_received",
        "devices_refurbished",
        "devices_delivered",
        "beneficiaries_reached",
        "ewaste_recycled_kg",
        "updated_at",
    ):
        assert field in body
    assert [hub["code"] for hub in body["by_hub"]] == ["BE-BRU", "CD-FIH", "KE-MBA", "KE-NBO", "ZA-JNB"]
    assert {"code", "name", "country", "devices_received", "beneficiaries_reached"} <= set(body["by_hub"][0])
    assert body["by_hub"][0]["kind"] == {
        "code": "refurbishing_hub",
        "name": "Refurbishing hub",
        "description": "Refurbishes donated devices and sends them to projects.",
    }
    assert response["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {"by_country", "by_project_kind", "monthly", "environment"} <= set(body)


def test_impact_answers_304_to_a_matching_etag_and_200_once_figures_change(
    staff_ke_mba, hubs, django_capture_on_commit_callbacks
):
    client = APIClient()
    first = client.get(IMPACT)
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get(IMPACT, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    with django_capture_on_commit_callbacks(execute=True):
        devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    changed = client.get(IMPACT, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["devices_received"] == 1


def test_impact_is_read_only(hubs):
    assert APIClient().post(IMPACT, {}).status_code == 405


def test_impact_cors_preflight_allows_get_from_any_origin(hubs):
    response = APIClient().options(
        IMPACT, HTTP_ORIGIN="https://partner.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_impact_counts_a_received_device(staff_ke_mba, hubs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    body = APIClient().get(IMPACT).json()
    assert body["devices_received"] == 1
    assert next(hub for hub in body["by_hub"] if hub["code"] == "KE-MBA")["devices_received"] == 1


def test_impact_runs_no_query_when_the_cache_is_warm(hubs, django_assert_num_queries):
    client = APIClient()
    assert client.get(IMPACT).status_code == 200
    with django_assert_num_queries(0):
        response = client.get(IMPACT)
    assert response.status_code == 200


def test_impact_json_is_sent_gzipped_once_per_fold_to_clients_that_accept_it(client, db, fresh_cache):
    import gzip
    import json

    plain = client.get("/api/v1/impact/")
    zipped = client.get("/api/v1/impact/", headers={"accept-encoding": "gzip"})

    assert zipped["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert zipped["ETag"] == plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"]
