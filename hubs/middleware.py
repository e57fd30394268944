"""A signed-in person reads the site in the language of their profile, on any device they sign in on."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext

from common.api_errors import error_body

from .accounts.second_factor import second_factor_need_for_request

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


# Addresses (after the language prefix, if any) that a session must have passed its second factor to reach,
# when the person needs one (hubs.accounts.second_factor.second_factor_need). The two-factor pages themselves and
# signing out stay open, or nobody could get through.
SECOND_FACTOR_GUARDED = ("admin/", "scan/", "api/", "donors/", "projects/", "accounts/")
SECOND_FACTOR_OPEN = ("accounts/two-factor/", "accounts/logout/", "accounts/login/")


def _path_after_language(path: str) -> str:
    path = path.lstrip("/")
    language = translation.get_language_from_path("/" + path)
    if language and path.startswith(language + "/"):
        return path[len(language) + 1 :]
    return path


class SecondFactorMiddleware:
    """Sends a signed-in person who owes a second factor to enter or set it up before any guarded page.

    After django_otp's OTPMiddleware, which tells whether this session was verified. The API answers 403 with
    its error body instead of a redirect; a request that brings its own ``Authorization`` (a token, issued only
    after a second-factor sign-in) is left to the API's authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = _path_after_language(request.path_info)
        if path.startswith(SECOND_FACTOR_GUARDED) and not path.startswith(SECOND_FACTOR_OPEN):
            user = getattr(request, "user", None)
            is_api = path.startswith("api/")
            if user is not None and not (is_api and "HTTP_AUTHORIZATION" in request.META):
                need = second_factor_need_for_request(request)
                if need is not None:
                    return self._refuse(request, need, is_api=is_api)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, need: str, *, is_api: bool) -> HttpResponse:
        if is_api:
            detail = gettext("Sign in with your second factor before using the API as hub staff.")
            return JsonResponse(error_body(detail), status=403)
        target = reverse("two-factor-setup" if need == "setup" else "two-factor-verify")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
