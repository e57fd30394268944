"""One error body for the whole API: ``{"detail": "a sentence", "errors": {"field": ["what is wrong"]}}``.

DRF answers a refused request with ``{"detail": ...}``, a validation error with ``{"field": [...]}`` and an
unknown URL with Django's HTML page. Clients (and the OpenAPI schema, see ``common.openapi``) get one shape
instead: ``detail`` says what happened in words a person can act on, ``errors`` names the fields at fault
(empty when no field is). Views that refuse a request themselves answer with the same two keys.
"""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .security import NulCharacterRefused

API_PREFIX = "/api/"
NON_FIELD_ERRORS = "non_field_errors"


class ErrorSerializer(serializers.Serializer):
    """An error: a sentence a person can act on, and the fields at fault (empty when no field is)."""

    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def error_body(detail: str, errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    errors = {name: [str(message) for message in messages] for name, messages in (errors or {}).items()}
    return {"detail": str(detail), "errors": errors}


def _field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested validation errors to ``{"field.sub": [messages]}``."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            for key, messages in _field_errors(value, f"{prefix}.{name}" if prefix else str(name)).items():
                flat.setdefault(key, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            key = f"{prefix}.{index}" if prefix else str(index)
            for name, messages in _field_errors(value, key).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD_ERRORS: [str(message) for message in messages]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers such as WWW-Authenticate and Retry-After), with the one error body."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django answers 500 (see ``server_error``)
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        general = errors.get(NON_FIELD_ERRORS)
        detail = general[0] if general else exceptions.ValidationError.default_detail  # "Invalid input."
        response.data = error_body(detail, errors)
    else:
        data = response.data
        detail = data.get("detail", "") if isinstance(data, Mapping) else data
        response.data = error_body(str(detail))
    return response


# Django's own error views, answering with the API's error body under /api/ (an id that is not a number, say,
# matches no URL at all, so no DRF view sees it) and with the site's pages everywhere else. The messages are
# DRF's, which come translated.


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        # Our own refusals say what was wrong; anything else Django refused (a malformed body) stays generic.
        detail = str(exception) if isinstance(exception, NulCharacterRefused) else exceptions.ParseError.default_detail
        return JsonResponse(error_body(detail), status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(exceptions.NotFound.default_detail), status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(exceptions.APIException.default_detail), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    return defaults.server_error(request)
