"""A fixed-window limit on POSTs per view and client address, counted in the shared cache.

``cache.add`` starts a window only when none is running and ``cache.incr`` is atomic in Redis, so every web
process counts against the same number. Past the limit the view answers 429 with ``Retry-After`` and a
translated page saying how long to wait.
"""

import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the X-Forwarded-For entry
    the outermost of them added (entries further left are the client's to write, so never trusted)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/h"`` -> (5, 3600): how many requests in how many seconds."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0].lower()]


def rate_limit(name: str) -> Callable:
    """Limit the view's POSTs to ``settings.RATE_LIMITS[name]`` per client address."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and settings.RATE_LIMITS_ENABLED:
                limit, seconds = parse_rate(settings.RATE_LIMITS[name])
                window = int(time.time() // seconds)
                key = f"ratelimit:{name}:{client_ip(request)}:{window}"
                cache.add(key, 0, timeout=seconds)
                try:
                    count = cache.incr(key)
                except ValueError:  # the window ended between add and incr: this is the first of a new one
                    cache.add(key, 1, timeout=seconds)
                    count = 1
                if count > limit:
                    wait = max(1, math.ceil((window + 1) * seconds - time.time()))
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request: HttpRequest, wait_seconds: int) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        # An API client gets the API's one error body (common.api_errors), not a page.
        response = JsonResponse(
            {
                "detail": ngettext(
                    "Too many requests: try again in %(seconds)d second.",
                    "Too many requests: try again in %(seconds)d seconds.",
                    wait_seconds,
                )
                % {"seconds": wait_seconds},
                "errors": {},
            },
            status=429,
        )
        response["Retry-After"] = str(wait_seconds)
        return response
    response = render(
        request,
        "429.html",
        {"wait_minutes": max(1, math.ceil(wait_seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(wait_seconds)
    return response
