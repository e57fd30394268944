import json
import logging
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from kombu import Connection

from donations.selectors import donor_list_for_user
from hubs.middleware import PROFILE_LANGUAGE_SESSION_KEY, set_language_cookie
from hubs.selectors import user_is_hub_staff
from hubs.services import user_language_set
from projects.selectors import project_list_for_user

from .personal_data import account_can_self_delete, personal_data_export
from .personal_data import account_delete as account_delete_service

logger = logging.getLogger(__name__)

# A readiness probe must answer within the health check's own timeout, even when a service hangs.
READINESS_TIMEOUT_SECONDS = 2


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process is up. Also the benchmarks' trivial baseline view; asks no service."""
    return HttpResponse(b"ok", content_type="text/plain")


def root(request: HttpRequest) -> HttpResponse:
    """``/``: to the home page in the visitor's language (LocaleMiddleware has read the cookie, the profile's
    language or Accept-Language). The same answer LocaleMiddleware gives any address without a language, without
    first resolving it, failing, and rendering the 404 page that answer replaces: the busiest address of all."""
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponseRedirect(f"/{translation.get_language()}/" + (f"?{query}" if query else ""))
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> None:
    options = {"socket_connect_timeout": READINESS_TIMEOUT_SECONDS, "socket_timeout": READINESS_TIMEOUT_SECONDS}
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=READINESS_TIMEOUT_SECONDS, transport_options=options
    ) as connection:
        connection.ensure_connection(max_retries=0, timeout=READINESS_TIMEOUT_SECONDS)


def _check_cache() -> None:
    # A round trip through the configured cache client: the write and the read both reach Redis.
    key, value = "readyz:" + uuid.uuid4().hex, "ok"
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was just written")
    cache.delete(key)


def readiness_checks() -> dict[str, Callable[[], None]]:
    """The services this process needs to serve requests, as configured: always the database; the broker
    unless tasks run in-process (eager mode or the in-memory broker); the cache when it is Redis."""
    checks = {"database": _check_database}
    broker_url = settings.CELERY_BROKER_URL or ""
    if not settings.CELERY_TASK_ALWAYS_EAGER and not broker_url.startswith("memory://"):
        checks["broker"] = _check_broker
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        checks["cache"] = _check_cache
    return checks


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness for load balancers and compose: 200 when every configured service answers, else 503 naming
    the failing one (the reason goes to the log, not to whoever asks)."""
    results = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as error:
            logger.exception("Readiness check %r failed", name)
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


COORDINATOR_SESSION_KEY = "closegap_coordinator"
# Whether the person gives equipment for an organisation: hub staff see the donor links only if they do.
DONOR_SESSION_KEY = "closegap_donor"


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Send each person to their own place: hub staff to the admin, coordinators and donors to their portals."""
    user = request.user
    coordinates = project_list_for_user(user=user).exists()
    # The site's navigation offers "My projects" to coordinators without a query on every page.
    request.session[COORDINATOR_SESSION_KEY] = coordinates
    donates = donor_list_for_user(user=user).exists()
    request.session[DONOR_SESSION_KEY] = donates
    if user.is_staff and user_is_hub_staff(user=user):
        return redirect("admin:index")
    if coordinates and not donates:
        return redirect("projects:portal")
    return redirect("donations:portal")


# No CSRF token: choosing the language a page is shown in is harmless if a third party triggers it, and a form
# without a token keeps the public pages identical for every visitor, so they stay cacheable (impact.page_cache).
@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: remember the choice in a cookie and, for a signed-in person, in their profile, then
    go back to the page they were on, in the chosen language (/fr/hubs/KE-NBO/ -> /nl/hubs/KE-NBO/)."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseRedirect(next_url)
    # The address is resolved in the language it is written in (its prefix), then reversed in the chosen one.
    with translation.override(translation.get_language_from_path(urlsplit(next_url).path) or language):
        next_url = translate_url(next_url, language)
    response = HttpResponseRedirect(next_url)
    set_language_cookie(response, language)
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
        request.session[PROFILE_LANGUAGE_SESSION_KEY] = language
    return response


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(gettext_lazy("This is not your password."), code="wrong_password")
        return password


@login_required
@require_safe
def my_data(request: HttpRequest) -> HttpResponse:
    """What the platform holds about the person: download it, or delete the account."""
    return render(request, "registration/my_data.html", {"can_delete": account_can_self_delete(user=request.user)})


@login_required
@require_safe
def my_data_download(request: HttpRequest) -> HttpResponse:
    data = personal_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="closegap-my-data-{request.user.pk}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """Delete the person's own account after they confirm with their password (donors and coordinators)."""
    if not account_can_self_delete(user=request.user):
        return render(request, "registration/account_delete.html", {"refused": True}, status=403)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        account_delete_service(user=user)
        return render(request, "registration/account_deleted.html")
    return render(request, "registration/account_delete.html", {"form": form})


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST only), and the browser told to forget what it kept for this site: the scan
    station's offline cache and queue (IndexedDB), its service worker and cached pages. Works without JavaScript;
    the station's script also deletes its database itself before the form is sent."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
