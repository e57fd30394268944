"""Template context every page shares."""

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, translate_url
from django.utils.translation import get_language_from_path


def _alternates(request: HttpRequest) -> list[dict[str, str]]:
    language = get_language_from_path(request.path_info)
    if not language:
        return []  # the admin, the API: one address for every language, nothing to point to
    url = request.build_absolute_uri()
    alternates = [{"code": code, "url": translate_url(url, code)} for code, _name in settings.LANGUAGES]
    # x-default: the address without a language, which sends each visitor to their own language.
    prefix = get_script_prefix()
    path = request.get_full_path()
    unprefixed = path.replace(f"{prefix}{language}/", prefix, 1)
    alternates.append({"code": "x-default", "url": request.build_absolute_uri(unprefixed)})
    return alternates


def language_alternates(request: HttpRequest) -> dict[str, Any]:
    """``language_alternates``: the page's address in each language, for <link rel="alternate" hreflang>.

    A callable, so that only the templates that use it (base.html, the widget) pay for the URL lookups.
    """
    return {"language_alternates": partial(_alternates, request)}
