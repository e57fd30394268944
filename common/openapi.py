"""The OpenAPI schema documents every error an operation can answer, with the one error body.

Each status is derived from what the view is built of, so an endpoint added later is documented the same way
without anyone remembering to: any request can be refused (400: a body or filters at fault, or a NUL character
anywhere in it; 415 for a body in a format the view does not parse), authentication can fail (401), a session's
unsafe request needs its CSRF token and a stricter permission can refuse (403), a path id or a page cursor can
match nothing (404), a throttle can slow the caller down (429). A view states any other error (409, say) with
``extend_schema(responses=...)``; an error response it declares without a body gets the error body here. Any
operation can also meet the web server's own refusal of an over-long request line (414), which never reaches
Django: ``add_web_server_errors``, the last postprocessing hook, documents it without a body on every path, the
hand-written ones too. (Like the rest of the schema, the descriptions are for developers, in English.)
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication

from .api_errors import ErrorSerializer

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Permissions that let any authenticated caller through: they alone never answer 403.
PERMISSIONS_WITHOUT_REFUSAL = (permissions.AllowAny, permissions.IsAuthenticated)

DESCRIPTIONS = {
    400: "The request is not valid: see errors for the fields at fault (none when the request is refused whole, "
    "e.g. for a NUL character in it).",
    401: "No valid credentials: send the header Authorization: Token <key>.",
    403: "You may not do this (or, signed in by session, the CSRF token is missing).",
    404: "Not found, or not at one of your hubs.",
    415: "The body is in a format this operation does not accept.",
    429: "Too many requests: wait the number of seconds in the Retry-After header.",
}
# Answered by the web server in front of Django (gunicorn's limit is a 4 KB request line), in its own words.
WEB_SERVER_ERRORS = {
    414: "URI too long: the web server refuses a request line over 4 KB before the API sees it. No body is promised."
}


class AutoSchema(openapi.AutoSchema):
    def error_statuses(self) -> set[int]:
        """The error statuses this operation can answer, read from what its view is built of."""
        view = self.view
        has_body = self.method in ("POST", "PUT", "PATCH")
        # Any request can be refused whole: a NUL character anywhere in its address, query or form is a 400
        # before any view runs (common.security.RejectNulCharactersMiddleware).
        statuses = {400}
        if has_body:
            statuses.add(415)
        authenticators = view.get_authenticators()
        if authenticators:
            statuses.add(401)
        session = any(isinstance(auth, SessionAuthentication) for auth in authenticators)
        strict = any(not isinstance(p, PERMISSIONS_WITHOUT_REFUSAL) for p in view.get_permissions())
        if strict or (session and self.method in UNSAFE_METHODS):
            statuses.add(403)
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            statuses.add(404)
        if view.get_throttles():
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_statuses()):
            responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if int(code) >= 400 and int(code) not in WEB_SERVER_ERRORS and not response.get("content"):
                error = OpenApiResponse(ErrorSerializer, description=response.get("description", ""))
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return dict(sorted(responses.items()))


def add_web_server_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the web server's own refusals, on every operation of the schema."""
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete", "head", "options"):
                responses = operation["responses"]
                for code, description in WEB_SERVER_ERRORS.items():
                    responses.setdefault(str(code), {"description": description})
                operation["responses"] = dict(sorted(responses.items()))
    return result
