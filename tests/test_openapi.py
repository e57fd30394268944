"""The OpenAPI schema tells the truth: it generates cleanly, every operation documents the errors it can answer
with the one error body, and every operation that asks for credentials refuses a request without valid ones.

tests/contract/run_schemathesis.sh checks the same promises from outside, against a live server, in CI.
"""

import importlib
import re

import pytest
from django.core.management import call_command
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework import generics, serializers
from rest_framework.test import APIClient

from common.openapi import WEB_SERVER_ERRORS
from hubs.models import Hub

ERROR_REF = "#/components/schemas/Error"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for url, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield url, method, item[method]


def needs_credentials(operation: dict) -> bool:
    return {} not in operation.get("security", [{}])


def test_the_schema_generates_and_validates_without_a_warning(db, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning into an error; --validate checks it against OpenAPI 3.0.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text(encoding="utf-8")
    assert "/api/v1/devices/{id}/transitions/:" in schema
    assert "DeviceTransitionRequest" in schema


def test_the_schema_is_served(db):
    assert APIClient().get("/api/schema/").status_code == 200


def test_api_docs_load_no_third_party_script(client, db):
    html = client.get("/api/docs/").content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def test_every_error_response_has_the_one_error_body(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "errors"]
    checked = 0
    for url, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if int(code) in WEB_SERVER_ERRORS:
                # The web server answers these in its own words, before the API sees the request.
                assert "content" not in response and response["description"], (method, url, code)
            elif int(code) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, url, code)
                assert response["description"], (method, url, code)
                checked += 1
    assert checked >= 15


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for url, method, operation in operations(schema):
        documented = {int(code) for code in operation["responses"]}
        expected = {414}  # a request line too long for the web server, on every path
        if needs_credentials(operation):
            expected.add(401)
        if "requestBody" in operation:
            expected |= {400, 415}
        if "{" in url:
            expected.add(404)
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", [])):
            expected.add(404)  # a cursor that is not one of ours
        assert expected <= documented, f"{method.upper()} {url} does not document {sorted(expected - documented)}"
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"400", "429"} <= set(token)
    assert "401" not in token  # it takes no credentials, so refuses none
    transitions = schema["paths"]["/api/v1/devices/{id}/transitions/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "415"} <= set(transitions)


def test_a_device_grade_may_be_empty_in_the_schema_as_in_the_api(schema):
    grade = schema["components"]["schemas"]["Device"]["properties"]["grade"]
    choices = [schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]] for ref in grade["oneOf"]]
    assert {value for choice in choices for value in choice["enum"]} == {"A", "B", "C", ""}


class _ThingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = ["id", "code"]


class _ThingView(generics.RetrieveUpdateAPIView):
    queryset = Hub.objects.all()
    serializer_class = _ThingSerializer


def test_an_endpoint_added_later_gets_its_error_responses_without_anyone_writing_them():
    generator = SchemaGenerator(patterns=[path("api/v1/things/<int:pk>/", _ThingView.as_view())])
    responses = generator.get_schema(request=None, public=True)["paths"]["/api/v1/things/{id}/"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "415"} <= set(responses)
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


def concrete(url: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", url)


def test_every_operation_that_needs_credentials_answers_401_without_them_or_with_a_bad_token(schema, db):
    protected = [(url, method) for url, method, operation in operations(schema) if needs_credentials(operation)]
    assert len(protected) >= 4
    for url, method in protected:
        for credentials in ({}, {"HTTP_AUTHORIZATION": "Token not-a-real-token"}):
            response = getattr(APIClient(), method)(concrete(url), format="json", **credentials)
            assert response.status_code == 401, (method, url, credentials)
            assert response["WWW-Authenticate"] == "Token", (method, url)
            assert set(response.json()) == {"detail", "errors"}


def test_a_valid_token_is_let_in(staff_ke_mba, token_client):
    client = token_client(staff_ke_mba)
    assert client.get("/api/v1/hubs/").status_code == 200
    assert client.get("/api/v1/devices/").status_code == 200


def _api_model_serializers():
    for module in (
        "hubs.serializers",
        "donations.serializers",
        "refurbishing.serializers",
        "refurbishing.recycling.api",
        "refurbishing.transfers.api",
        "projects.api",
    ):
        importlib.import_module(module)
    seen, todo = set(), [serializers.ModelSerializer]
    while todo:
        for cls in todo.pop().__subclasses__():
            if cls not in seen:
                seen.add(cls)
                todo.append(cls)
    return [cls for cls in seen if cls.__module__.split(".")[0] in {"hubs", "donations", "refurbishing", "projects"}]


def test_every_read_only_choice_field_the_model_lets_be_empty_says_so(db):
    # A device whose drive is not known yet answers storage_kind "": a schema without "" in the enum made
    # schemathesis (and any generated client) reject the answer.
    wrong = []
    for cls in _api_model_serializers():
        model = cls.Meta.model
        for name, field in cls().fields.items():
            if not (isinstance(field, serializers.ChoiceField) and field.read_only):
                continue
            try:
                model_field = model._meta.get_field(field.source)
            except Exception:  # a method or a related path: not a model column
                continue
            if model_field.blank and not field.allow_blank:
                wrong.append(f"{cls.__name__}.{name}")
    assert not wrong
    assert len(_api_model_serializers()) > 10  # the walk found the serializers


def test_a_device_storage_kind_may_be_empty_in_the_schema_as_in_the_api(schema):
    kind = schema["components"]["schemas"]["Device"]["properties"]["storage_kind"]
    choices = [schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]] for ref in kind["oneOf"]]
    assert "" in {value for choice in choices for value in choice["enum"]}
