"""Donor pages: sign-up, pledge, and the portal that follows each donated device."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from django_countries import countries

from common.ratelimit import rate_limit
from donations import exports
from donations.imports import spreadsheet
from hubs.accounts.organisation_pages import organisation_sign_up
from hubs.models import Hub
from refurbishing.destinations import device_destinations
from refurbishing.history.journey import timeline
from refurbishing.models import Device, DeviceState, MediaType
from refurbishing.selectors import device_event_list
from refurbishing.weights import weight_basis_described

from . import documents, reports
from .forms import (
    ADD_ROWS,
    DEFAULT_ROWS,
    MAX_ROWS,
    ColumnMappingForm,
    DeviceRowFormSet,
    DonorSignUpForm,
    EResourceCommitmentForm,
    PledgeCancelForm,
    PledgeEditForm,
    PledgeForm,
    SpreadsheetPledgeForm,
    SpreadsheetUploadForm,
)
from .models import Certificate, Donation, Donor, EResourceCommitment, SpreadsheetImport
from .selectors import (
    certificate_current,
    certificate_get_public,
    certificate_pending_devices,
    device_list_for_user,
    donation_change_list,
    donation_get_for_user,
    donation_list_for_user,
    donation_list_with_progress,
    donor_list_for_user,
    e_resource_allocation_rows,
    e_resource_commitment_get_for_user,
    e_resource_commitment_get_public,
    e_resource_commitment_list_for_user,
    e_resource_devices_sent_to_africa,
    hub_usual_for_donor,
    progress_of,
    spreadsheet_import_get_for_user,
)
from .services import (
    AFRICAN_COUNTRIES,
    CertificatePending,
    DonationError,
    EResourceError,
    donation_cancel,
    donation_certificate_issue,
    donation_is_editable,
    donation_pledge,
    donation_recycling_certificate_issue,
    donation_update,
    donor_sign_up,
    donor_user_may_pledge,
    e_resource_commitment_create,
    e_resource_kg_per_device,
    spreadsheet_import_check,
    spreadsheet_import_create,
    spreadsheet_import_progress,
    spreadsheet_import_queue,
)

ROWS_PREFIX = "devices"


def _sign_up(**details: Any) -> tuple[Donor, AbstractBaseUser]:
    try:
        return donor_sign_up(**details)
    except IntegrityError:
        # Someone signed up the same organisation between our check and the insert; the service rolled
        # both rows back, so say so and let the person try again.
        raise ValidationError(
            {"registration_number": _("An organisation with this registration number has already signed up.")}
        ) from None


@rate_limit("signup")
def signup(request: HttpRequest) -> HttpResponse:
    form = DonorSignUpForm(data=request.POST or None)
    if signed_up := organisation_sign_up(request, form=form, sign_up=_sign_up, error=DonationError):
        donor, user = signed_up
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
            donors=donors, initial={"pickup_address": first.address}, offered_hub=hub_usual_for_donor(donor=first)
        )
        formset = DeviceRowFormSet(prefix=ROWS_PREFIX)
        formset.extra = _requested_rows(request)
        return render(request, "donations/pledge.html", {"form": form, "formset": formset})

    form = PledgeForm(data=request.POST, donors=donors, offered_hub=hub_usual_for_donor(donor=donors[0]))
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


# --- The portal: following every device ----------------------------------------------------------------------


def _donation_or_404(request: HttpRequest, reference: str) -> Donation:
    # Scoped to the user's own organisations: anyone else's reference is a 404, not a 403, so references
    # cannot be probed.
    try:
        return donation_get_for_user(user=request.user, reference=reference)
    except Donation.DoesNotExist:
        raise Http404(_("No such donation among yours.")) from None


def _destination_context(destination) -> dict[str, str] | None:
    if destination is None:
        return None
    return {
        "kind": destination.kind_label,
        "country": str(countries.name(destination.country)) or destination.country,
        "public_name": destination.public_name,
        "public_url": destination.public_url,
    }


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    donors = list(donor_list_for_user(user=request.user))
    donations = list(donation_list_with_progress(user=request.user)) if donors else []
    return render(request, "donations/portal.html", {"donors": donors, "donations": donations})


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    devices = list(device_list_for_user(user=request.user, donation=donation))
    destinations = device_destinations(device_ids=[d.pk for d in devices if d.state == Device.State.DELIVERED])
    rows = [(device, _destination_context(destinations.get(device.pk))) for device in devices]
    certificate = certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION)
    pending = [] if certificate else certificate_pending_devices(donation)
    return render(
        request,
        "donations/detail.html",
        {
            "donation": donation,
            "progress": progress_of(donation),
            "rows": rows,
            "certificate": certificate,
            "pending": pending,
            "changes": list(donation_change_list(donation=donation)),
            # The devices are loaded anyway: no query to ask whether any has arrived.
            "editable": donation.status == Donation.Status.PLEDGED
            and all(device.state == DeviceState.PLEDGED for device in devices),
        },
    )


@login_required
def device_detail(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    try:
        device = device_list_for_user(user=request.user, donation=donation).get(pk=pk)
    except Device.DoesNotExist:
        raise Http404(_("No such device in this donation.")) from None
    destination = device_destinations(device_ids=[device.pk]).get(device.pk)
    return render(
        request,
        "donations/device.html",
        {
            "donation": donation,
            "device": device,
            "entries": timeline(device_event_list(device=device)),
            "destination": _destination_context(destination),
            "weight": weight_basis_described(device),
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
    if not donor_user_may_pledge(user=request.user):  # a pledge from a file is a pledge: the address comes first
        return render(request, "donations/verify_required.html", status=403)
    first = donors[0]
    form = SpreadsheetPledgeForm(
        data=request.POST or None,
        files=request.FILES or None,
        donors=donors,
        initial={"pickup_address": first.address},
        offered_hub=hub_usual_for_donor(donor=first),
    )
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
    preview = spreadsheet_import.preview or {}
    form = ColumnMappingForm(
        data=request.POST or None,
        headers=spreadsheet_import.headers,
        mapping=spreadsheet_import.mapping,
        samples=preview.get("samples"),
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
            "hub": _import_hub(spreadsheet_import),
            "preview_rows": [_preview_row(row) for row in preview.get("rows", [])],
            "preview_devices": preview.get("devices", 0),
            "preview_by_category": sorted(
                ((_category_label(category), count) for category, count in preview.get("by_category", {}).items()),
                key=lambda pair: (-pair[1], pair[0]),
            ),
            "preview_with_storage": preview.get("with_storage", 0),
        },
    )


def _import_hub(spreadsheet_import: SpreadsheetImport) -> Hub | None:
    """The hub the devices go to: the donation's, or the one chosen for the new pledge."""
    if spreadsheet_import.donation_id:
        return spreadsheet_import.donation.hub
    hub_id = (spreadsheet_import.pledge or {}).get("hub_id")
    return Hub.objects.filter(pk=hub_id).first() if hub_id else None


def _category_label(category: str) -> str:
    return str(Device.Category(category).label) if category in Device.Category.values else category


def _preview_row(row: dict[str, Any]) -> dict[str, Any]:
    """A checked row as the page shows it: labels for codes, sizes with their units."""
    kind = row.get("storage_kind") or ""
    storage = ""
    if row.get("storage_gb"):
        storage = f"{row['storage_gb']} GB"
        if kind in MediaType.values:
            storage += f" {MediaType(kind).label}"
    return {
        **row,
        "category_label": _category_label(row.get("category") or ""),
        "ram": f"{row['ram_gb']} GB" if row.get("ram_gb") else "",
        "storage": storage,
    }


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


# --- Exports and reports ------------------------------------------------------------------------------------------


def _stamp() -> str:
    return timezone.localdate().isoformat()


def _csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(exports.csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _file_response(filename: str, content: bytes, content_type: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _device_list(request: HttpRequest, donation: Donation | None, extension: str, name: str) -> HttpResponse:
    devices = device_list_for_user(user=request.user, donation=donation)
    header = [str(h) for h in reports.DEVICE_LIST_HEADER]
    if extension == "csv":
        # Streamed in chunks: an organisation's list can run to tens of thousands of devices.
        return _csv_response(f"{name}.csv", header, reports.device_list_rows(devices.iterator(chunk_size=2000)))
    content = exports.xlsx_bytes(
        title=_("Devices"), header=header, rows=reports.device_list_rows(devices.iterator(chunk_size=2000))
    )
    return _file_response(f"{name}.xlsx", content, XLSX)


@login_required
@require_GET
def devices_export(request: HttpRequest, extension: str) -> HttpResponse:
    if not donor_list_for_user(user=request.user).exists():
        raise Http404(_("Your account does not belong to a donor organisation."))
    return _device_list(request, None, extension, f"devices-{_stamp()}")


@login_required
@require_GET
def donation_devices_export(request: HttpRequest, reference: str, extension: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    return _device_list(request, donation, extension, f"{donation.reference}-devices-{_stamp()}")


@login_required
@require_GET
def asset_report(request: HttpRequest, reference: str, extension: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    devices = device_list_for_user(user=request.user, donation=donation)
    header = [str(h) for h in reports.ASSET_REPORT_HEADER]
    rows = reports.asset_report_rows(devices.iterator(chunk_size=2000))
    name = f"{donation.reference}-asset-report-{_stamp()}"
    if extension == "xlsx":
        content = exports.xlsx_bytes(title=donation.reference, header=header, rows=rows)
        return _file_response(f"{name}.xlsx", content, XLSX)
    return _file_response(
        f"{name}.pdf", documents.asset_report_pdf(donation=donation, header=header, rows=rows), "application/pdf"
    )


# --- Certificates -------------------------------------------------------------------------------------------------


def verify_url(request: HttpRequest, certificate: Certificate) -> str:
    """The certificate's public address, without a language: it opens in the reader's own."""
    return request.build_absolute_uri(f"/verify/{certificate.number}/")


def _certificate_response(request: HttpRequest, certificate: Certificate, name: str) -> HttpResponse:
    content = documents.certificate_pdf(certificate, verify_url=verify_url(request, certificate))
    return _file_response(f"{name}-{certificate.number}.pdf", content, "application/pdf", inline=True)


@login_required
@require_GET
def certificate(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    try:
        issued = donation_certificate_issue(donation=donation)
    except CertificatePending as pending:
        # 409: the certificate exists as a resource, but not yet; the page lists what it waits for.
        return render(
            request,
            "donations/certificate_pending.html",
            {"donation": donation, "pending": pending.pending, "reason": str(pending)},
            status=409,
        )
    return _certificate_response(request, issued, "sanitisation-certificate")


@login_required
@require_GET
def recycling_certificate(request: HttpRequest, reference: str) -> HttpResponse:
    donation = _donation_or_404(request, reference)
    try:
        issued = donation_recycling_certificate_issue(donation=donation)
    except CertificatePending:
        return render(
            request,
            "donations/certificate_pending.html",
            {"donation": donation, "pending": [], "recycling": True},
            status=409,
        )
    return _certificate_response(request, issued, "recycling-certificate")


@require_GET
def certificate_verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public: whether a certificate is genuine, and nothing more than its number, donor, date, device count and
    whether a later one superseded it."""
    try:
        found = certificate_get_public(number=number)
    except Certificate.DoesNotExist:
        try:
            commitment = e_resource_commitment_get_public(number=number)
        except EResourceCommitment.DoesNotExist:
            raise Http404(_("No certificate has this number.")) from None
        return render(request, "donations/verify_e_resource.html", {"commitment": commitment})
    superseded_by = getattr(found, "superseded_by", None)
    return render(request, "donations/verify.html", {"certificate": found, "superseded_by": superseded_by})


# --- e-Resource ---------------------------------------------------------------------------------------------------


@login_required
@rate_limit("pledge")
def e_resource(request: HttpRequest) -> HttpResponse:
    """The organisation's e-Resource commitments with their progress, and the form to make one."""
    donors = donor_list_for_user(user=request.user)
    if not donors:
        return render(request, "donations/no_donor.html", status=403)
    kg_per_device = e_resource_kg_per_device()
    form = EResourceCommitmentForm(data=request.POST or None, donors=donors, kg_per_device=kg_per_device)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = e_resource_commitment_create(
                donor=data["donor"],
                actor=request.user,
                basis=data["basis"],
                devices=data.get("devices"),
                kilograms=data.get("kilograms"),
            )
        except EResourceError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                _("Thank you: your commitment to compensate %(kg)s kg of e-waste is in the queue.")
                % {"kg": number_format(made.target_kg, decimal_pos=0, use_l10n=True, force_grouping=True)},
            )
            return redirect("donations:e-resource")
    commitments = list(e_resource_commitment_list_for_user(user=request.user))
    context = {
        "form": form,
        "commitments": commitments,
        "kg_per_device": kg_per_device,
        "devices_in_africa": e_resource_devices_sent_to_africa(
            donor_ids=[d.pk for d in donors], african_countries=AFRICAN_COUNTRIES
        ),
    }
    return render(request, "donations/e_resource.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def e_resource_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """A covered commitment's e-Resource certificate (PDF); 409 while it is not covered yet."""
    try:
        found = e_resource_commitment_get_for_user(user=request.user, pk=pk)
    except EResourceCommitment.DoesNotExist:
        raise Http404(_("No such commitment.")) from None
    if found.status != EResourceCommitment.Status.COVERED:
        messages.error(request, _("This commitment is not fully covered yet; its certificate comes when it is."))
        return redirect("donations:e-resource")
    url = request.build_absolute_uri(f"/verify/{found.certificate_number}/")
    rows = e_resource_allocation_rows(commitment=found)
    content = documents.e_resource_certificate_pdf(found, rows=rows, verify_url=url)
    return _file_response(
        f"e-resource-certificate-{found.certificate_number}.pdf", content, "application/pdf", inline=True
    )
