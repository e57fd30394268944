"""Check-in of a donation on the scan station: scan what arrived, add what was not pledged, close, print labels.

Works as plain forms without JavaScript; ``static/js/scan.js`` sends them with fetch and swaps the result.
"""

from dataclasses import asdict
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceState
from refurbishing.scan.responses import fragment_aware, hub_staff_required, labels_response, wants_fragment
from refurbishing.selectors import device_list_for_donation

from .models import Donation
from .selectors import donation_list_awaiting_check_in
from .services import donation_check_in_close, donation_check_in_scan, donation_check_in_summary, donation_for_check_in


class CheckInScanForm(forms.Form):
    scan = forms.CharField(label=gettext_lazy("Scan or type a serial number, asset tag or label code"), max_length=80)
    category = forms.ChoiceField(
        label=gettext_lazy("category"), choices=[("", "—"), *Device.Category.choices], required=False
    )
    manufacturer = forms.CharField(label=gettext_lazy("manufacturer"), max_length=80, required=False)
    model = forms.CharField(label=gettext_lazy("model"), max_length=120, required=False)


def _donation_or_404(request: HttpRequest, reference: str) -> Donation:
    try:
        return donation_for_check_in(user=request.user, reference=reference)
    except Donation.DoesNotExist:
        raise Http404(_("No donation with this reference at your hubs.")) from None


@hub_staff_required
@require_http_methods(["GET"])
def start(request: HttpRequest) -> HttpResponse:
    reference = request.GET.get("reference", "").strip()[:20]
    not_found = False
    if reference:
        try:
            donation = donation_for_check_in(user=request.user, reference=reference.upper())
        except Donation.DoesNotExist:
            not_found = True
        else:
            return redirect("check-in:donation", reference=donation.reference)
    context = {
        "reference": reference,
        "not_found": not_found,
        "donations": donation_list_awaiting_check_in(user=request.user),
    }
    return render(request, "donations/check_in_start.html", context, status=404 if not_found else 200)


def _render(request: HttpRequest, donation: Donation, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    summary = donation_check_in_summary(donation=donation)
    context = {"donation": donation, "summary": asdict(summary), **context}
    context.setdefault("form", CheckInScanForm())
    template = "donations/_check_in_result.html" if wants_fragment(request) else "donations/check_in.html"
    return fragment_aware(render(request, template, context, status=status))


@hub_staff_required
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    if request.method == "GET":
        return _render(request, donation, {})
    form = CheckInScanForm(data=request.POST)
    if not form.is_valid():
        return _render(request, donation, {"form": form}, status=400)
    try:
        result = donation_check_in_scan(donation=donation, actor=request.user, **form.cleaned_data)
    except LifecycleError as error:
        context: dict[str, Any] = {"refusal": error.message}
        if error.code == "unknown":
            # Keep the code and ask for the device's description, on the same form.
            context["form"] = CheckInScanForm(initial={"scan": form.cleaned_data["scan"]})
            context["ask_description"] = True
            # Devices pledged without serials, of several categories: only the category is needed to claim one.
            context["ask_category_only"] = set(error.field_errors) == {"category"}
        return _render(request, donation, context, status=400)
    return _render(request, donation, {"result": result})


@hub_staff_required
@require_http_methods(["POST"])
def close(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    try:
        summary = donation_check_in_close(donation=donation, actor=request.user)
    except LifecycleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Check-in closed: %(received)d received, %(unexpected)d not pledged, %(missing)d missing.")
            % {"received": summary.received, "unexpected": summary.unexpected, "missing": summary.missing},
        )
    return redirect("check-in:donation", reference=donation.reference)


@hub_staff_required
@require_http_methods(["GET"])
def labels(request: HttpRequest, reference: str) -> HttpResponse:
    """Labels for every device of the donation that arrived."""
    donation = _donation_or_404(request, reference)
    arrived = device_list_for_donation(donation_id=donation.pk).exclude(
        state__in=[DeviceState.PLEDGED, DeviceState.MISSING]
    )
    return labels_response(
        request, list(arrived), layout=request.GET.get("layout", "a4"), filename=f"labels-{donation.reference}"
    )
