"""The public impact JSON, a plain Django view, is documented in the API schema by ``impact.openapi``."""

from rest_framework.test import APIClient


def test_schema_documents_the_public_impact_json(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/impact/" in schema["paths"]
    assert "by_project_kind" in schema["components"]["schemas"]["ImpactSummary"]["properties"]
