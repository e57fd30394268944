"""What every hub-staff page shares, on the scan station and beside it (check-in, transfers, bulk jobs, the
admin's label action): the staff-only door, the page-or-fragment answer, and a sheet of labels as a PDF."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

from hubs.selectors import user_is_hub_staff, user_is_partner_staff
from refurbishing.models import Device
from refurbishing.scan.labels import LAYOUTS, labels_pdf

FRAGMENT_HEADER = "HTTP_X_FRAGMENT"


def hub_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-out visitors go to the login page; anyone signed in who works at no hub gets a 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_hub_staff(user=request.user):
            raise Http404(_("The scan station is for hub staff."))
        return view(request, *args, **kwargs)

    return wrapped


def device_workers_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """As ``hub_staff_required``, and a refurbishment partner's users come in too: the pages that move devices one
    by one or in bulk (the scan card, its moves, bulk jobs), where they reach only their work orders' devices."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (user_is_hub_staff(user=request.user) or user_is_partner_staff(user=request.user)):
            raise Http404(_("The scan station is for hub staff."))
        return view(request, *args, **kwargs)

    return wrapped


def wants_fragment(request: HttpRequest) -> bool:
    return request.META.get(FRAGMENT_HEADER) == "1"


def fragment_aware(response: HttpResponse) -> HttpResponse:
    """One address answers a page or a fragment: caches must tell them apart, and keep neither (staff data)."""
    patch_vary_headers(response, ["X-Fragment"])
    add_never_cache_headers(response)
    return response


def label_url(request: HttpRequest, device: Device) -> str:
    """The address a device's QR code holds: its card on the scan station, the same in every language.

    The card lives under the language prefix (/fr/scan/d/<code>/); the label holds it without one, which
    redirects to the language of whoever scans it, so one printed label serves every technician.
    """
    path = reverse("scan:device", args=[device.label_code])
    language = translation.get_language_from_path(path)
    if language:
        path = path[len(language) + 1 :]
    return request.build_absolute_uri(path)


def labels_response(request: HttpRequest, devices: list[Device], *, layout: str, filename: str) -> HttpResponse:
    if layout not in LAYOUTS:
        layout = "a4"
    pdf = labels_pdf(devices, url_for=lambda device: label_url(request, device), layout=layout)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}-{layout}.pdf"'
    return response
