"""Check-in of a transfer from another hub on the scan station: scan what arrived, close, see what is missing.

The same pattern as a donation's check-in (``donations.check_in_views``): plain forms that work without
JavaScript, sent with fetch by ``static/js/scan.js`` which swaps the result fragment.
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
from refurbishing.models import Transfer
from refurbishing.scan.responses import fragment_aware, hub_staff_required, wants_fragment
from refurbishing.transfers.services import (
    transfer_check_in_close,
    transfer_check_in_scan,
    transfer_for_check_in,
    transfer_list_arriving,
    transfer_summary,
)


class TransferScanForm(forms.Form):
    scan = forms.CharField(label=gettext_lazy("Scan or type a serial number, asset tag or label code"), max_length=80)


def _transfer_or_404(request: HttpRequest, transfer_id: int) -> Transfer:
    try:
        return transfer_for_check_in(user=request.user, transfer_id=transfer_id)
    except Transfer.DoesNotExist:
        raise Http404(_("No transfer with this id arrives at your hubs.")) from None


@hub_staff_required
@require_http_methods(["GET"])
def start(request: HttpRequest) -> HttpResponse:
    return render(
        request, "refurbishing/transfer_check_in_start.html", {"transfers": transfer_list_arriving(user=request.user)}
    )


def _render(request: HttpRequest, transfer: Transfer, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    context = {"transfer": transfer, "summary": asdict(transfer_summary(transfer=transfer)), **context}
    context.setdefault("form", TransferScanForm())
    template = (
        "refurbishing/_transfer_check_in_result.html"
        if wants_fragment(request)
        else "refurbishing/transfer_check_in.html"
    )
    return fragment_aware(render(request, template, context, status=status))


@hub_staff_required
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = _transfer_or_404(request, transfer_id)
    if request.method == "GET":
        return _render(request, transfer, {})
    form = TransferScanForm(data=request.POST)
    if not form.is_valid():
        return _render(request, transfer, {"form": form}, status=400)
    try:
        result = transfer_check_in_scan(transfer=transfer, actor=request.user, scan=form.cleaned_data["scan"])
    except LifecycleError as error:
        return _render(request, transfer, {"refusal": error.message}, status=400)
    return _render(request, transfer, {"result": result})


@hub_staff_required
@require_http_methods(["POST"])
def close(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = _transfer_or_404(request, transfer_id)
    try:
        summary = transfer_check_in_close(transfer=transfer, actor=request.user)
    except LifecycleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Check-in closed: %(received)d received, %(missing)d missing.")
            % {"received": summary.received, "missing": summary.missing},
        )
    return redirect("scan:transfer", transfer_id=transfer.pk)
