"""The hardware-report upload page for hub staff: the same as ``POST /api/v1/snapshots/``, with a file."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.ratelimit import rate_limit
from hubs.models import Hub
from hubs.selectors import hub_list_for_user, user_is_hub_staff
from refurbishing.errors import LifecycleError
from refurbishing.hardware.selectors import differences_in_words, snapshot_result
from refurbishing.hardware.services import snapshot_create
from refurbishing.hardware.workbench import NotAWorkbenchReport, decode_report
from refurbishing.models import Device


def hub_staff_required(view):
    """Hub staff only: anyone signed out is sent to log in, anyone else finds nothing here (404)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_hub_staff(user=request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class SnapshotUploadForm(forms.Form):
    report = forms.FileField(
        label=gettext_lazy("Hardware report (JSON file from eReuse Workbench)"),
        help_text=gettext_lazy("The .json file Workbench wrote for one machine."),
    )
    hub = forms.ModelChoiceField(
        queryset=Hub.objects.none(),
        label=gettext_lazy("Hub"),
        required=False,
        help_text=gettext_lazy("Where the device is. Needed only if you work at several hubs."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        hubs = hub_list_for_user(user=user).order_by("code")
        self.fields["hub"].queryset = hubs
        if hubs.count() <= 1:
            del self.fields["hub"]

    def clean_report(self):
        upload = self.cleaned_data["report"]
        cap = settings.HARDWARE_REPORT_MAX_BYTES
        if upload.size > cap:
            raise forms.ValidationError(
                _("A hardware report may be at most %(max)s; this file is %(size)s.")
                % {"max": filesizeformat(cap), "size": filesizeformat(upload.size)}
            )
        try:
            return decode_report(upload.read(cap + 1), max_bytes=cap)
        except NotAWorkbenchReport as error:
            raise forms.ValidationError(
                _("This file is not an eReuse Workbench report: %(reason)s") % {"reason": error}
            ) from error


@hub_staff_required
@rate_limit("hardware_report")
def snapshot_upload(request: HttpRequest) -> HttpResponse:
    result = None
    device = None
    created = False
    if request.method == "POST":
        form = SnapshotUploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                outcome = snapshot_create(
                    report=form.cleaned_data["report"], actor=request.user, hub=form.cleaned_data.get("hub")
                )
            except LifecycleError as error:
                form.add_error(
                    "hub" if "hub" in error.field_errors and "hub" in form.fields else "report", error.message
                )
            else:
                result = snapshot_result(outcome.snapshot)
                result["differences_in_words"] = differences_in_words(outcome.snapshot.differences)
                created = outcome.created
                if outcome.snapshot.device_id:
                    device = Device.objects.select_related("hub").get(pk=outcome.snapshot.device_id)
                form = SnapshotUploadForm(user=request.user)
    else:
        form = SnapshotUploadForm(user=request.user)
    status = 400 if form.errors else 200
    return render(
        request,
        "refurbishing/snapshot_upload.html",
        {"form": form, "result": result, "device": device, "created": created},
        status=status,
    )
