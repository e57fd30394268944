"""The scan station as an installable web app: its manifest, its service worker and the page it shows for what
it cannot serve offline. One of each per language, under /<language>/scan/, so the worker's scope is the
station in that language and its offline page speaks it."""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

# The files the station needs to open with no network: cached when the worker installs.
SHELL_ASSETS = ("css/site.css", "css/scan.css", "js/scan.js", "js/scan-offline.js", "favicon.svg")


def shell_asset_urls() -> list[str]:
    return [static(name) for name in SHELL_ASSETS]


@lru_cache(maxsize=8)
def _worker_version(urls: tuple[str, ...]) -> str:
    """Changes whenever an asset changes (hashed names in production; the files' bytes otherwise)."""
    digest = hashlib.sha256("|".join(urls).encode())
    if settings.DEBUG or not getattr(staticfiles_storage, "manifest_strict", False):
        for name in SHELL_ASSETS:
            try:
                with staticfiles_storage.open(name) as handle:
                    digest.update(handle.read())
            except (FileNotFoundError, OSError, ValueError):
                digest.update(name.encode())
    return digest.hexdigest()[:12]


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker: keeps the station's page and assets, never a scan's answer (see the template)."""
    station = reverse("scan:station")
    urls = shell_asset_urls()
    response = render(
        request,
        "refurbishing/scan/sw.js",
        {
            "version": _worker_version(tuple(urls)),
            "station_url": json.dumps(station),
            "offline_url": json.dumps(reverse("scan:offline")),
            "assets": json.dumps(urls),
        },
        content_type="text/javascript; charset=utf-8",
    )
    # Browsers check for a new worker on every visit; the file itself must never be served stale.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = station
    return response


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    station = reverse("scan:station")
    body = {
        "name": _("Close the Gap scan station"),
        "short_name": _("Scan station"),
        "description": _("Scan devices and record their moves at the hub, with or without a connection."),
        "lang": request.LANGUAGE_CODE,
        "start_url": station,
        "scope": station,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5a3c",
        "icons": [{"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
def offline_page(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a page of the station it cannot reach offline (not the browser's error page)."""
    return render(request, "refurbishing/scan/offline.html")
