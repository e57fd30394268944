"""The scan station's wipe samples page: the picked media still to re-verify at the user's hubs, each with its
verdict form (the same service as ``POST /api/v1/wipe-samples/{id}/verify/``)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from refurbishing.errors import LifecycleError
from refurbishing.hardware.sampling import wipe_sample_item_verify
from refurbishing.hardware.selectors import wipe_sample_list
from refurbishing.hardware.views import hub_staff_required
from refurbishing.models import WipeSample, WipeSampleItem

# The page lists this many open samples, oldest first; the API lists them all.
SAMPLES_LISTED = 50


@hub_staff_required
def wipe_samples(request: HttpRequest) -> HttpResponse:
    samples = wipe_sample_list(user=request.user).filter(status=WipeSample.Status.OPEN)
    error = ""
    if request.method == "POST":
        result = request.POST.get("result")
        item = WipeSampleItem.objects.filter(sample__in=samples, pk=request.POST.get("item") or 0).first()
        if item is None:
            error = _("This medium is not waiting for re-verification at your hubs.")
        elif result not in ("passed", "failed"):
            error = _("Say whether the re-verification passed or failed.")
        else:
            try:
                wipe_sample_item_verify(
                    item=item, actor=request.user, passed=result == "passed", notes=request.POST.get("notes", "")
                )
            except LifecycleError as refused:
                error = refused.message
            else:
                messages.success(request, _("Re-verification recorded."))
                return redirect("scan:wipe-samples")
    listed = list(samples.order_by("picked_at", "id")[:SAMPLES_LISTED])
    return render(
        request,
        "refurbishing/wipe_samples.html",
        {"samples": listed, "error": error, "user_id": request.user.pk},
        status=400 if error else 200,
    )
