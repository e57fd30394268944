"""The API schema and its docs page, which every app's endpoints feed."""

from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_schema_is_served(db):
    assert APIClient().get("/api/schema/").status_code == 200


def test_the_schema_generates_without_warnings(db, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning (an undocumented field, a clashing name) into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/devices/{id}/transitions/" in schema
    assert "DeviceTransitionRequest" in schema


def test_api_docs_load_no_third_party_script(client, db):
    html = client.get("/api/docs/").content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
