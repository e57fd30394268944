"""What a door answers while axes locks out an account or an address: 429, the time to wait, Retry-After."""

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from .api_errors import API_PREFIX, error_body


def lockout_seconds(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds())) if cool_off else 0


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    seconds = lockout_seconds(request)
    minutes = max(1, math.ceil(seconds / 60))
    if request.path.startswith(API_PREFIX):
        detail = ngettext(
            "Too many failed sign-ins. Try again in %(minutes)d minute.",
            "Too many failed sign-ins. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        response: HttpResponse = JsonResponse(error_body(detail), status=429)
    else:
        response = render(request, "registration/locked_out.html", {"wait_minutes": minutes}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
