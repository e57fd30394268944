"""Donor pages: sign-up, pledge, and the portal that follows each donated device."""

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from closegap.ratelimit import rate_limit
from hubs.accounts import email_verification_send
from hubs.views import SIGN_IN_BACKEND
from refurbishing.models import DeviceState
from refurbishing.selectors import device_list_for_donation

from . import spreadsheet
from .forms import (
    ADD_ROWS,
    DEFAULT_ROWS,
    MAX_ROWS,
    ColumnMappingForm,
    DeviceRowFormSet,
    DonorSignUpForm,
    PledgeCancelForm,
    PledgeEditForm,
    PledgeForm,
    SpreadsheetPledgeForm,
    SpreadsheetUploadForm,
)
from .models import Donation, Donor, SpreadsheetImport
from .selectors import (
    donation_change_list,
    donation_list_for_user,
    donor_list_for_user,
    hub_suggested_for_donor,
    spreadsheet_import_get_for_user,
)
from .services import (
    DonationError,
    donation_cancel,
    donation_is_editable,
    donation_pledge,
    donation_update,
    donor_sign_up,
    donor_user_may_pledge,
    spreadsheet_import_check,
    spreadsheet_import_create,
    spreadsheet_import_progress,
    spreadsheet_import_queue,
)

ROWS_PREFIX = "devices"


@rate_limit("signup")
def signup(request: HttpRequest) -> HttpResponse:
    form = DonorSignUpForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donor, user = donor_sign_up(
                legal_name=data["legal_name"],
                registration_number=data["registration_number"],
                country=data["country"],
                address=data["address"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                email=data["email"],
                password=data["password1"],
            )
        except DonationError as exc:
            # Someone signed up with this address between our check and the insert.
            form.add_error("email", str(exc))
        except IntegrityError:
            # Someone signed up the same organisation between our check and the insert; the service rolled
            # both rows back, so say so and let the person try again.
            form.add_error(
                "registration_number",
                _("An organisation with this registration number has already signed up."),
            )
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            email_verification_send(user=user, request=request)
            messages.success(
                request,
                _(
                    "Welcome, %(org)s. We sent a link to %(email)s: open it to confirm your address, "
                    "then tell us what you would like to donate."
                )
                % {"org": donor.legal_name, "email": user.email},
            )
            return redirect("donations:pledge")
    return render(request, "donations/signup.html", {"form": form})


def _requested_rows(request: HttpRequest) -> int:
    try:
        rows = int(request.GET.get("rows", DEFAULT_ROWS))
    except ValueError:
        rows = DEFAULT_ROWS
    return max(1, min(rows, MAX_ROWS))


def _with_more_rows(form: PledgeForm, formset, *, donors: QuerySet[Donor]) -> tuple[PledgeForm, Any]:
    """The same pledge as unbound forms carrying what was typed, plus empty rows (the no-JS "add rows")."""
    typed = {name: form[name].value() for name in form.fields}
    rows = [{name: row[name].value() for name in row.fields} for row in formset.forms]
    more = PledgeForm(initial=typed, donors=donors)
    more_rows = DeviceRowFormSet(initial=rows, prefix=ROWS_PREFIX)
    more_rows.extra = max(0, min(ADD_ROWS, MAX_ROWS - len(rows)))
    return more, more_rows


@login_required
@rate_limit("pledge")
def pledge(request: HttpRequest) -> HttpResponse:
    donors = donor_list_for_user(user=request.user)
    if not donors:  # evaluates the queryset once; the form reuses its rows
        return render(request, "donations/no_donor.html", status=403)
    if not donor_user_may_pledge(user=request.user):
        return render(request, "donations/verify_required.html", status=403)

    if request.method != "POST":
        first = donors[0]
        form = PledgeForm(
            donors=donors, initial={"pickup_address": first.address, "hub": hub_suggested_for_donor(donor=first)}
        )
        formset = DeviceRowFormSet(prefix=ROWS_PREFIX)
        formset.extra = _requested_rows(request)
        return render(request, "donations/pledge.html", {"form": form, "formset": formset})

    form = PledgeForm(data=request.POST, donors=donors)
    formset = DeviceRowFormSet(data=request.POST, prefix=ROWS_PREFIX)
    if "add_rows" in request.POST:
        form, formset = _with_more_rows(form, formset, donors=donors)
        return render(request, "donations/pledge.html", {"form": form, "formset": formset})

    # Both validated, so every mistake shows at once.
    form_valid = form.is_valid()
    if formset.is_valid() and form_valid:
        data = form.cleaned_data
        rows = formset.device_rows()
        try:
            donation = donation_pledge(
                donor=data.get("donor") or donors[0],
                hub=data["hub"],
                pickup_address=data["pickup_address"],
                pickup_date=data["pickup_date"],
                notes=data["notes"],
                rows=rows,
                actor=request.user,
            )
        except DonationError as exc:
            # The service saved nothing; the rows stay on the page as typed.
            form.add_error(None, str(exc))
        else:
            count = len(rows)
            messages.success(
                request,
                ngettext(
                    "Thank you! Donation %(reference)s is pledged with %(count)d device. "
                    "The hub will contact you about the pickup.",
                    "Thank you! Donation %(reference)s is pledged with %(count)d devices. "
                    "The hub will contact you about the pickup.",
                    count,
                )
                % {"reference": donation.reference, "count": count},
            )
            return redirect("donations:detail", reference=donation.reference)
    return render(request, "donations/pledge.html", {"form": form, "formset": formset})


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    donors = list(donor_list_for_user(user=request.user))
    donations = list(donation_list_for_user(user=request.user)) if donors else []
    return render(request, "donations/portal.html", {"donors": donors, "donations": donations})


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    # Scoped to the user's own organisations: anyone else's reference is a 404, not a 403, so references
    # cannot be probed.
    try:
        donation = donation_list_for_user(user=request.user).get(reference=reference)
    except Donation.DoesNotExist:
        raise Http404(_("No such donation among yours.")) from None
    devices = list(device_list_for_donation(donation_id=donation.pk))
    # Every device is on the page anyway, so they are counted here rather than by a second query.
    counts = Counter(device.state for device in devices)
    state_counts = [(label, counts[value]) for value, label in DeviceState.choices if counts[value]]
    return render(
        request,
        "donations/detail.html",
        {
            "donation": donation,
            "devices": devices,
            "state_counts": state_counts,
            "changes": list(donation_change_list(donation=donation)),
            # The devices are loaded anyway: no query to ask whether any has arrived.
            "editable": donation.status == Donation.Status.PLEDGED
            and all(device.state == DeviceState.PLEDGED for device in devices),
        },
    )


def _own_donation(request: HttpRequest, reference: str) -> Donation:
    # Another organisation's reference is a 404, as on the donation page.
    try:
        return donation_list_for_user(user=request.user).get(reference=reference)
    except Donation.DoesNotExist:
        raise Http404(_("No such donation among yours.")) from None


@login_required
def edit(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _own_donation(request, reference)
    if not donation_is_editable(donation=donation):
        messages.error(
            request, _("This pledge can no longer change: its first devices have arrived, or it was cancelled.")
        )
        return redirect("donations:detail", reference=donation.reference)
    initial = {"pickup_address": donation.pickup_address, "pickup_date": donation.pickup_date, "notes": donation.notes}
    form = PledgeEditForm(data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            donation_update(donation=donation, actor=request.user, fields=form.cleaned_data)
        except DonationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your changes to %(reference)s are saved.") % {"reference": donation.reference})
            return redirect("donations:detail", reference=donation.reference)
    return render(request, "donations/edit.html", {"donation": donation, "form": form})


@login_required
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _own_donation(request, reference)
    if not donation_is_editable(donation=donation):
        messages.error(
            request, _("This pledge can no longer change: its first devices have arrived, or it was cancelled.")
        )
        return redirect("donations:detail", reference=donation.reference)
    form = PledgeCancelForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            donation_cancel(donation=donation, actor=request.user, reason=form.cleaned_data["reason"])
        except DonationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Donation %(reference)s is cancelled.") % {"reference": donation.reference})
            return redirect("donations:detail", reference=donation.reference)
    return render(request, "donations/cancel.html", {"donation": donation, "form": form})


# --- spreadsheet import ------------------------------------------------------------------------------------


def _upload_content(upload) -> bytes:
    return b"".join(upload.chunks())


@login_required
@rate_limit("asset_import")
def import_pledge(request: HttpRequest) -> HttpResponse:
    """A new pledge from an asset list: pickup details and the file; the devices are checked before anything."""
    donors = donor_list_for_user(user=request.user)
    if not donors:
        return render(request, "donations/no_donor.html", status=403)
    first = donors[0]
    initial = {"pickup_address": first.address, "hub": hub_suggested_for_donor(donor=first)}
    form = SpreadsheetPledgeForm(data=request.POST or None, files=request.FILES or None, donors=donors, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        donor = data.get("donor") or first
        upload = data["file"]
        try:
            spreadsheet_import = spreadsheet_import_create(
                donor=donor,
                donation=None,
                actor=request.user,
                filename=upload.name,
                content=_upload_content(upload),
                pledge={
                    "hub_id": data["hub"].pk,
                    "pickup_address": data["pickup_address"],
                    "pickup_date": data["pickup_date"].isoformat() if data["pickup_date"] else "",
                    "notes": data["notes"],
                },
            )
        except DonationError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("donations:import_preview", pk=spreadsheet_import.pk)
    return render(request, "donations/import_upload.html", {"form": form, "donation": None})


@login_required
@rate_limit("asset_import")
def import_into(request: HttpRequest, reference: str) -> HttpResponse:
    """More devices for a pledge that has not arrived yet, from an asset list."""
    donation = _own_donation(request, reference)
    form = SpreadsheetUploadForm(data=request.POST or None, files=request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            spreadsheet_import = spreadsheet_import_create(
                donor=donation.donor,
                donation=donation,
                actor=request.user,
                filename=upload.name,
                content=_upload_content(upload),
            )
        except DonationError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("donations:import_preview", pk=spreadsheet_import.pk)
    return render(request, "donations/import_upload.html", {"form": form, "donation": donation})


def _own_import(request: HttpRequest, pk: int) -> SpreadsheetImport:
    try:
        return spreadsheet_import_get_for_user(user=request.user, pk=pk)
    except SpreadsheetImport.DoesNotExist:
        raise Http404(_("No such upload among yours.")) from None


PREVIEW_ROWS = 5


@login_required
@rate_limit("asset_import")
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The file as matched: each column's field (which the person may correct), ignored columns, every problem."""
    spreadsheet_import = _own_import(request, pk)
    if spreadsheet_import.status != SpreadsheetImport.Status.UPLOADED:
        return redirect("donations:import_progress", pk=spreadsheet_import.pk)
    form = ColumnMappingForm(
        data=request.POST or None, headers=spreadsheet_import.headers, mapping=spreadsheet_import.mapping
    )
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        try:
            if mapping != spreadsheet_import.mapping or "check" in request.POST:
                spreadsheet_import_check(spreadsheet_import=spreadsheet_import, mapping=mapping)
                if "import" not in request.POST or spreadsheet_import.problem_count:
                    return redirect("donations:import_preview", pk=spreadsheet_import.pk)
            spreadsheet_import_queue(spreadsheet_import=spreadsheet_import)
        except DonationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("donations:import_progress", pk=spreadsheet_import.pk)
    unknown = [h for h, f in zip(spreadsheet_import.headers, spreadsheet_import.mapping, strict=False) if h and not f]
    return render(
        request,
        "donations/import_preview.html",
        {
            "upload": spreadsheet_import,
            "form": form,
            "unknown_columns": unknown,
            "hidden_problems": max(0, spreadsheet_import.problem_count - len(spreadsheet_import.problems)),
        },
    )


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    spreadsheet_import = _own_import(request, pk)
    progress = spreadsheet_import_progress(spreadsheet_import=spreadsheet_import)
    return render(request, "donations/import_progress.html", {"upload": spreadsheet_import, "progress": progress})


@login_required
@require_GET
def import_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    spreadsheet_import = _own_import(request, pk)
    progress = spreadsheet_import_progress(spreadsheet_import=spreadsheet_import)
    if progress["donation"]:
        progress["donation_url"] = reverse("donations:detail", kwargs={"reference": progress["donation"]})
    response = JsonResponse(progress)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The asset-list template, with a header row every matcher knows and one example row."""
    if kind == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(spreadsheet.template_xlsx(), content_type=content_type)
    else:
        response = HttpResponse(spreadsheet.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="closegap-asset-list.{kind}"'
    return response
