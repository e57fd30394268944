"""Whole public pages kept ready for anonymous visitors: rendered once per version and language, sent compressed.

The home page is the same for every anonymous visitor until the figures change. Rendering it (the body and the
site's frame around it) and gzipping it on each request cost most of a request's time, so each process keeps the
finished bytes, plain and gzipped, per (page, version, language, host, scheme). A visitor who brings a session or a
flash message gets the page rendered as usual (their header differs). Per process and bounded: nothing here needs
other processes to agree, and a new version (a fold) replaces the old entry.

The response carries a strong ETag, so a browser coming back revalidates and gets a 304 of a few hundred bytes.
"""

import gzip
import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

# Bounded: a few pages x three languages x the host names the site answers to.
MAX_ENTRIES = 64


class _Entry:
    __slots__ = ("content_type", "etag", "gzipped", "plain", "version")

    def __init__(self, response: HttpResponse, *, version: str, etag: str) -> None:
        self.version = version
        self.plain = response.content
        # mtime=0: the same bytes give the same gzip, so every process sends identical bodies for one ETag.
        self.gzipped = gzip.compress(self.plain, compresslevel=6, mtime=0)
        self.content_type = response["Content-Type"]
        self.etag = etag


_entries: dict[tuple[str, ...], _Entry] = {}


def page_cache_clear() -> None:
    """Forget every finished page of this process (tests; a deploy starts new processes anyway)."""
    _entries.clear()


def _is_plain_anonymous_visit(request: HttpRequest) -> bool:
    """No session and no pending flash message: the page is exactly what every anonymous visitor sees."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "").lower()


def _respond(request: HttpRequest, entry: _Entry) -> HttpResponse:
    if entry.etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
        response = HttpResponseNotModified()
    elif _accepts_gzip(request):
        response = HttpResponse(entry.gzipped, content_type=entry.content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(entry.plain, content_type=entry.content_type)
    response["ETag"] = entry.etag
    # Stored by the browser, asked again on each visit: a changed figure is never hidden, an unchanged page is a 304.
    response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ("Accept-Encoding", "Cookie"))
    return response


def cached_public_page(version: Callable[[], str]) -> Callable:
    """Serve anonymous GETs of the decorated view from the per-process store, keyed by ``version()``.

    ``version`` must be cheap (the home page uses the ETag of the cached impact summary: no query when warm) and
    change whenever what the page shows changes.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not _is_plain_anonymous_visit(request):
                return view(request, *args, **kwargs)
            language = translation.get_language()
            current = version()
            key = (
                view.__module__,
                view.__qualname__,
                request.get_full_path(),
                language,
                request.get_host(),
                request.scheme,
            )
            entry = _entries.get(key)
            if entry is None or entry.version != current:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming or response.has_header("Set-Cookie"):
                    return response
                digest = hashlib.blake2b(response.content, digest_size=8).hexdigest()
                entry = _Entry(response, version=current, etag=f'"{language}-{digest}"')
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = entry
            return _respond(request, entry)

        return wrapper

    return decorator
