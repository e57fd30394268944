"""Security headers every answer carries, and the idle timeout of staff sessions.

A small middleware rather than django-csp: the policy is one fixed string, and the only exception (the widget,
framed by partner sites) follows the view's own ``xframe_options_exempt``, so framing is decided in one place.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


def policy_header(directives: dict[str, list[str]]) -> str:
    """``{"default-src": ["'self'"]}`` -> ``"default-src 'self'"``; directives without values stand alone."""
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response.

    A view marked ``xframe_options_exempt`` (the widget) may be framed by any site; every other page keeps
    ``frame-ancestors 'none'`` beside X-Frame-Options: DENY.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy = dict(settings.CONTENT_SECURITY_POLICY)
        self.content_security_policy = policy_header(policy)
        self.framable_content_security_policy = policy_header({**policy, "frame-ancestors": ["*"]})
        self.permissions_policy = ", ".join(
            f"{feature}=({' '.join(allowed)})" for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            framable = getattr(response, "xframe_options_exempt", False)
            response["Content-Security-Policy"] = (
                self.framable_content_security_policy if framable else self.content_security_policy
            )
        if self.permissions_policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions_policy
        return response


class StaffSessionIdleMiddleware:
    """A staff or superuser session ends after STAFF_SESSION_IDLE_SECONDS without a request.

    The expiry is set again on every request, and setting it saves the session, so it is inactivity that
    counts. Donors and coordinators keep the site-wide SESSION_COOKIE_AGE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


NUL = "\x00"
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def contains_nul(value: Any) -> bool:
    """Whether a parsed request value (text, or lists and dicts of them, keys included) holds a NUL character."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class NulCharacterRefused(BadRequest):
    """A request refused for a NUL character; its message is the API's ``detail`` (``common.api_errors``)."""


class RejectNulCharactersMiddleware:
    """Answer 400 to a request whose path, query or form fields hold a NUL character (``%00``).

    No text a person types holds one, and PostgreSQL can neither store nor compare text with it: a lookup with a
    NUL (a hub code, a scanned code, a reference in a query string) would raise a database error, a 500, where
    SQLite answers "not found". Refused here once for every page and every API endpoint; JSON bodies are checked
    by the API's parser (``common.parsers.JSONParser``). Uploaded files' contents are not text fields and
    are left to the code that reads them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info or contains_nul(dict(request.GET.lists())):
            raise NulCharacterRefused("The address holds a NUL character (%00), which no field accepts.")
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES and self._form_has_nul(request):
            raise NulCharacterRefused("A form field holds a NUL character, which no field accepts.")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request: HttpRequest) -> bool:
        return contains_nul(dict(request.POST.lists())) or any(
            contains_nul(upload.name) for upload in request.FILES.values()
        )
