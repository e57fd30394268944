"""Bulk moves on the scan station: start one from scanned codes; its progress page and JSON, polled by
``static/js/job-progress.js``."""

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from refurbishing.bulk.services import bulk_job_for_user, bulk_job_progress, bulk_job_start
from refurbishing.errors import LifecycleError
from refurbishing.lifecycle import ACTION_LABELS
from refurbishing.models import BulkJob
from refurbishing.scan.responses import device_workers_required
from refurbishing.selectors import device_find_by_code

# The page lists this many refused devices; the rest are counted (the API and JSON carry them all).
REFUSED_LISTED = 200


def _job(request: HttpRequest, pk: int) -> BulkJob:
    try:
        return bulk_job_for_user(user=request.user, pk=pk)
    except BulkJob.DoesNotExist as missing:
        raise Http404 from missing


@device_workers_required
@require_GET
def bulk_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    progress = bulk_job_progress(job=job)
    response = render(
        request,
        "refurbishing/bulk_progress.html",
        {
            "job": job,
            "progress": progress,
            "label": ACTION_LABELS.get(job.action, job.action),
            "refused": progress["refused"][:REFUSED_LISTED],
            "refused_more": max(0, progress["refused_count"] - REFUSED_LISTED),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@device_workers_required
@require_GET
def bulk_job_json(request: HttpRequest, pk: int) -> JsonResponse:
    progress = bulk_job_progress(job=_job(request, pk))
    progress.pop("refused")  # the page reloads once finished and lists them; polls stay small
    response = JsonResponse(progress)
    response["Cache-Control"] = "no-store"
    return response


class ScanBulkForm(forms.Form):
    """Many devices at once from the scan station: scan their codes one per line, then choose the move."""

    codes = forms.CharField(
        label=gettext_lazy("Codes"),
        help_text=gettext_lazy("Scan or type one serial number, asset tag or label code per line."),
        widget=forms.Textarea(attrs={"rows": 8, "autocapitalize": "characters", "spellcheck": "false"}),
    )
    action = forms.ChoiceField(label=gettext_lazy("Move"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = sorted(ACTION_LABELS.items(), key=lambda item: str(item[1]))


@device_workers_required
def scan_bulk(request: HttpRequest) -> HttpResponse:
    """Start a bulk move of the scanned devices (through the same job, services and guards as the admin's)."""
    form = ScanBulkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = [line.strip() for line in form.cleaned_data["codes"].splitlines() if line.strip()]
        ids: list[int] = []
        unknown: list[str] = []
        for code in codes:
            devices = device_find_by_code(user=request.user, code=code)
            if devices:
                ids.extend(device.pk for device in devices)
            else:
                unknown.append(code)
        if unknown:
            form.add_error(
                "codes", gettext("No device of your hubs has these codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        else:
            try:
                job = bulk_job_start(actor=request.user, action=form.cleaned_data["action"], device_ids=ids)
            except LifecycleError as error:
                form.add_error("action", error.message)
            else:
                return redirect("scan:bulk-job", pk=job.pk)
    status = 400 if form.errors else 200
    return render(request, "refurbishing/scan_bulk.html", {"form": form}, status=status)
