"""A bulk action's progress page and its JSON, polled by ``static/js/bulk-progress.js``."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .bulk import bulk_job_for_user, bulk_job_progress
from .lifecycle import ACTION_LABELS
from .models import BulkJob
from .scan_views import hub_staff_required

# The page lists this many refused devices; the rest are counted (the API and JSON carry them all).
REFUSED_LISTED = 200


def _job(request: HttpRequest, pk: int) -> BulkJob:
    try:
        return bulk_job_for_user(user=request.user, pk=pk)
    except BulkJob.DoesNotExist as missing:
        raise Http404 from missing


@hub_staff_required
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


@hub_staff_required
@require_GET
def bulk_job_json(request: HttpRequest, pk: int) -> JsonResponse:
    progress = bulk_job_progress(job=_job(request, pk))
    progress.pop("refused")  # the page reloads once finished and lists them; polls stay small
    response = JsonResponse(progress)
    response["Cache-Control"] = "no-store"
    return response
