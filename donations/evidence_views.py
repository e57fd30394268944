"""Evidence for an auditor: a hub manager asks for one hub and a date range, follows the build's progress, and
downloads the zip. Anyone who does not manage the hub finds nothing here (404)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from hubs.models import Hub

from .models import EvidenceArchive
from .selectors import evidence_hub_list_for_user
from .services import (
    EVIDENCE_MAX_DAYS,
    DonationError,
    evidence_archive_download_name,
    evidence_archive_for_user,
    evidence_archive_open,
    evidence_archive_start,
)


class EvidenceForm(forms.Form):
    hub = forms.ModelChoiceField(queryset=Hub.objects.none(), label=gettext_lazy("Hub"))
    date_from = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=gettext_lazy("Last day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, hubs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hub"].queryset = hubs
        self.fields["date_to"].help_text = gettext("Included. At most %(days)d days in one archive.") % {
            "days": EVIDENCE_MAX_DAYS
        }


def _archive(request: HttpRequest, pk: int) -> EvidenceArchive:
    try:
        return evidence_archive_for_user(user=request.user, pk=pk)
    except EvidenceArchive.DoesNotExist as missing:
        raise Http404 from missing


@login_required
def evidence_start(request: HttpRequest) -> HttpResponse:
    hubs = evidence_hub_list_for_user(user=request.user)
    if not hubs.exists():
        raise Http404
    today = timezone.localdate()
    # A link from a hub's own page (its dashboard, the admin) names the hub: ?hub=KE-MBA.
    asked = hubs.filter(code=request.GET.get("hub", "").upper()).first() if request.GET.get("hub") else None
    initial = {"hub": asked or hubs.first(), "date_from": today.replace(day=1), "date_to": today}
    form = EvidenceForm(request.POST or None, hubs=hubs, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            archive = evidence_archive_start(actor=request.user, **form.cleaned_data)
        except DonationError as error:
            form.add_error(None, str(error))
        else:
            return redirect("evidence:archive", pk=archive.pk)
    status = 400 if form.errors else 200
    return render(request, "donations/evidence_start.html", {"form": form}, status=status)


@login_required
@require_GET
def evidence_archive(request: HttpRequest, pk: int) -> HttpResponse:
    archive = _archive(request, pk)
    response = render(
        request,
        "donations/evidence_archive.html",
        {"archive": archive, "progress": archive.progress()},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def evidence_archive_json(request: HttpRequest, pk: int) -> JsonResponse:
    response = JsonResponse(_archive(request, pk).progress())
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def evidence_archive_download(request: HttpRequest, pk: int) -> FileResponse:
    archive = _archive(request, pk)
    try:
        opened = evidence_archive_open(archive=archive)
    except DonationError as not_ready:
        raise Http404 from not_ready
    return FileResponse(
        opened,
        as_attachment=True,
        filename=evidence_archive_download_name(archive=archive),
        content_type="application/zip",
    )
