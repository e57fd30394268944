"""Security headers every answer carries, and the idle timeout of staff sessions.

A small middleware rather than django-csp: the policy is one fixed string, and the only exception (the widget,
framed by partner sites) follows the view's own ``xframe_options_exempt``, so framing is decided in one place.
"""

from collections.abc import Callable

from django.conf import settings
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
