"""The public impact JSON: pre-rendered bytes from the cache, with ETag, Cache-Control and open CORS.

A plain Django view on purpose: the body is rendered once per fold (impact.selectors), so the request path
only compares an ETag and hands over bytes. DRF's request wrapping and rendering would cost more than the
rest of the request; the OpenAPI schema documents this path through ``impact.openapi``.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from .selectors import impact_summary_payload

# Short enough that the numbers stay live, long enough that browsers and proxies absorb bursts.
CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


def _not_modified(request: HttpRequest, etag: str) -> bool:
    # META, not request.headers: the latter copies every header into a new mapping, on the API's busiest path.
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(",")) or header.strip() == "*"


@require_safe
def impact_summary_view(request: HttpRequest) -> HttpResponse:
    """Devices received, refurbished and delivered, people reached, e-waste recycled and CO2e avoided."""
    payload = impact_summary_payload()
    if _not_modified(request, payload.etag):
        response = HttpResponseNotModified()
    elif "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "").lower():
        # Compressed once per fold, not per request: GZipMiddleware leaves an encoded body alone.
        response = HttpResponse(payload.gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(payload.body, content_type="application/json")
    response["ETag"] = payload.etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Accept-Encoding",))
    return response
