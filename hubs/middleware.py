"""A signed-in person reads the site in the language of their profile, on any device they sign in on."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

# The profile's language, copied into the session at login (hubs.receivers) and by the language switcher, so
# finding it costs no query on each request.
PROFILE_LANGUAGE_SESSION_KEY = "closegap_language"


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """Remember ``language`` in this browser (LocaleMiddleware reads the cookie on the next request)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def session_profile_language(request: HttpRequest) -> str | None:
    """The signed-in person's own language, if they chose one; None for anyone else."""
    # Only a request that brings a session cookie has a session to read: no session is created here.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    language = request.session.get(PROFILE_LANGUAGE_SESSION_KEY)
    return language if language in dict(settings.LANGUAGES) else None


class ProfileLanguageMiddleware:
    """Choose the language in this order: the URL's prefix (/fr/...: a shared link shows what it names), the
    signed-in person's profile, then LocaleMiddleware's cookie and Accept-Language.

    Sits after SessionMiddleware and LocaleMiddleware: the language activated here is also the one
    LocaleMiddleware redirects an unprefixed address to ("/" -> "/fr/"), and the one the admin and the API speak.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = session_profile_language(request)
        if language and not translation.get_language_from_path(request.path_info):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            # Remembered by this browser too, so the site stays in the person's language after they log out.
            set_language_cookie(response, language)
        return response
