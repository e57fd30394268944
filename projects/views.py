"""The project portal (coordinators) and the hub's project pages (hub staff and managers).

Thin views: forms check what a person typed, ``projects.services`` decides, ``projects.selectors`` reads,
scoped to the user. Anything outside the user's scope is a 404.
"""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from hubs.selectors import user_can_act_in_hub, user_is_hub_manager, user_is_hub_staff
from refurbishing.errors import LifecycleError

from .forms import (
    REQUEST_ROWS_MAX,
    ApplicationForm,
    CarrierForm,
    CorrectionForm,
    RequestFormSet,
    ResubmitForm,
    ReviewForm,
    StoryForm,
)
from .models import DeliveryConfirmation, DeliveryLine, DeviceRequest, Project, ProjectStory, Shipment
from .organisations import beneficiary_organisation_list_for_user, coordinator_may_apply
from .packing_list import packing_list_pdf
from .selectors import (
    allocation_list_unshipped,
    delivery_lines_flagged,
    delivery_list_visible,
    device_list_fitting,
    device_list_not_fitting,
    device_request_list_to_allocate,
    project_list_coordinated,
    project_list_for_review,
    project_list_visible,
    shipment_list_for_coordinator,
    shipment_list_visible,
    story_list_for_review,
)
from .services import (
    ProjectError,
    delivery_confirm,
    delivery_correct,
    delivery_people_current,
    delivery_reach_bound,
    project_apply,
    project_resubmit,
    project_review,
    project_story_review,
    project_story_submit,
    request_allocate,
    request_allocate_suggested,
    shipment_create,
    shipment_set_carrier,
    shipment_ship,
)


def _apply_errors(form: forms.Form, error: ProjectError | LifecycleError) -> None:
    placed = False
    for name, field_messages in (error.field_errors or {}).items():
        if name in form.fields:
            for message in field_messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


# --- coordinators ------------------------------------------------------------------------------------------------


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    """My projects: each project's status, the hub's reason, its requests and shipments."""
    projects = list(project_list_coordinated(user=request.user).prefetch_related("shipments"))
    if request.session.get("closegap_coordinator") != bool(projects):
        request.session["closegap_coordinator"] = bool(projects)  # the site's "My projects" link from now on
    return render(request, "projects/portal.html", {"projects": projects, "section": "projects"})


@login_required
def applications(request: HttpRequest) -> HttpResponse:
    projects = project_list_coordinated(user=request.user)
    return render(request, "projects/applications.html", {"projects": projects, "section": "applications"})


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    if not coordinator_may_apply(user=request.user):
        return render(request, "projects/verify_required.html", status=403)
    organisation = beneficiary_organisation_list_for_user(user=request.user).first()
    last = project_list_coordinated(user=request.user).order_by("-created_at").first()
    if organisation is not None:
        initial = {"organisation": organisation.name, "country": organisation.country, "place": organisation.place}
    else:
        initial = {"organisation": last.organisation, "country": last.country} if last else {}
    form = ApplicationForm(request.POST or None, initial=initial)
    formset = RequestFormSet(request.POST or None, prefix="requests")
    if request.method == "POST" and "add_request" in request.POST:
        # Without JavaScript too: the same application, unsent, with one more row of devices.
        form, formset = _with_another_request(form, formset)
        return render(request, "projects/apply.html", {"form": form, "formset": formset, "section": "applications"})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and f.has_changed()]
        try:
            project = project_apply(applicant=request.user, requests=rows, **form.cleaned_data)
        except ProjectError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request,
                _("Thank you: your application for %(project)s is sent to the hub.") % {"project": project.name},
            )
            return redirect("projects:project", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "projects/apply.html", {"form": form, "formset": formset, "section": "applications"}, status=status
    )


def _with_another_request(form: ApplicationForm, formset) -> tuple[ApplicationForm, Any]:
    """Unbound copies carrying what was typed, with one more (empty) row of devices, up to the most allowed."""
    typed = {name: form[name].value() for name in form.fields}
    rows = [{name: row[name].value() for name in row.fields} for row in formset.forms]
    more_rows = RequestFormSet(initial=rows, prefix="requests")
    more_rows.extra = 1 if len(rows) < REQUEST_ROWS_MAX else 0
    return ApplicationForm(initial=typed), more_rows


def _coordinated(request: HttpRequest, pk: int) -> Project:
    try:
        return project_list_coordinated(user=request.user).get(pk=pk)
    except Project.DoesNotExist:
        raise Http404(_("No such project among yours.")) from None


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _coordinated(request, pk)
    resubmit = None
    formset = None
    if project.status == Project.Status.CHANGES_REQUESTED:
        resubmit = ResubmitForm(
            request.POST or None,
            initial={"place": project.place, "expected_beneficiaries": project.expected_beneficiaries},
        )
        formset = RequestFormSet(
            request.POST or None,
            prefix="requests",
            initial=list(
                project.requests.values(
                    "category",
                    "quantity",
                    "min_ram_gb",
                    "min_storage_gb",
                    "min_cpu",
                    "min_grade",
                    "ssd_required",
                    "keyboard_layout",
                    "language",
                )
            ),
        )
        if request.method == "POST" and resubmit.is_valid() and formset.is_valid():
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            try:
                project_resubmit(project=project, actor=request.user, requests=rows, **resubmit.cleaned_data)
            except ProjectError as error:
                _apply_errors(resubmit, error)
            else:
                messages.success(request, _("Your application is sent back to the hub."))
                return redirect("projects:project", pk=project.pk)
    story_form = StoryForm(prefix="story") if project.status == Project.Status.APPROVED else None
    context = {
        "project": project,
        "requests": project.requests.all(),
        "shipments": shipment_list_for_coordinator(user=request.user).filter(project=project),
        "stories": project.stories.all(),
        "resubmit": resubmit,
        "formset": formset,
        "story_form": story_form,
        "section": "projects",
    }
    return render(request, "projects/project.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def story_submit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _coordinated(request, pk)
    form = StoryForm(request.POST, prefix="story")
    if form.is_valid():
        try:
            project_story_submit(project=project, author=request.user, **form.cleaned_data)
        except ProjectError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Thank you: the hub publishes your story once it has read it."))
    else:
        messages.error(request, _("The story is not sent: write it, and give both counts."))
    return redirect("projects:project", pk=project.pk)


@login_required
def shipments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "projects/shipments.html",
        {"shipments": shipment_list_for_coordinator(user=request.user), "section": "shipments"},
    )


class DeliveryForm(forms.Form):
    """What a coordinator confirms: each device's outcome, the date, the people reached, and why if many."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    delivered_on = forms.DateField(
        label=gettext_lazy("Date the devices arrived"), widget=forms.DateInput(attrs={"type": "date"})
    )
    people_served = forms.IntegerField(
        label=gettext_lazy("People these devices now serve"),
        min_value=1,
        max_value=1_000_000,
        help_text=gettext_lazy("Students, patients, entrepreneurs... who use the devices that arrived."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    explanation = forms.CharField(
        label=gettext_lazy("If more people than your project declared: why"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    OUTCOMES = [
        ("delivered", gettext_lazy("arrived")),
        ("missing", gettext_lazy("missing")),
        ("damaged", gettext_lazy("damaged")),
        ("", gettext_lazy("not checked yet")),
    ]

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = list(devices)
        for device in self.devices:
            self.fields[f"device_{device.pk}"] = forms.ChoiceField(
                label=str(device), choices=self.OUTCOMES, required=False, initial="delivered"
            )

    def device_fields(self):
        return [self[f"device_{d.pk}"] for d in self.devices]

    def outcome_ids(self, outcome: str) -> list[int]:
        return [d.pk for d in self.devices if self.cleaned_data.get(f"device_{d.pk}") == outcome]


def _coordinator_shipment(request: HttpRequest, pk: int) -> Shipment:
    try:
        return shipment_list_for_coordinator(user=request.user).get(pk=pk)
    except Shipment.DoesNotExist:
        raise Http404(_("No such shipment among your projects.")) from None


@login_required
def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = _coordinator_shipment(request, pk)
    on_the_way = shipment.devices.filter(state="shipped").order_by("id")
    form = None
    if shipment.status == Shipment.Status.SHIPPED:
        form = DeliveryForm(
            request.POST or None,
            devices=on_the_way,
            initial={"idempotency_key": uuid.uuid4().hex, "delivered_on": timezone.localdate()},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                confirmation, created = delivery_confirm(
                    shipment=shipment,
                    confirmed_by=request.user,
                    idempotency_key=data["idempotency_key"],
                    delivered_on=data["delivered_on"],
                    people_served=data["people_served"],
                    arrived=form.outcome_ids("delivered"),
                    missing=form.outcome_ids("missing"),
                    damaged=form.outcome_ids("damaged"),
                    explanation=data["explanation"],
                    note=data["note"],
                )
            except ProjectError as error:
                _apply_errors(form, error)
            else:
                people = confirmation.people_served
                messages.success(
                    request,
                    ngettext(
                        "Thank you! The delivery is confirmed, reaching %(people)s person.",
                        "Thank you! The delivery is confirmed, reaching %(people)s people.",
                        people,
                    )
                    % {"people": people},
                )
                return redirect("projects:shipment", pk=shipment.pk)
    context = {
        "shipment": shipment,
        "devices": shipment.devices.order_by("id"),
        "form": form,
        "confirmations": DeliveryConfirmation.objects.filter(shipment=shipment).prefetch_related("corrections"),
        "reach_bound": delivery_reach_bound(project=shipment.project),
        "section": "shipments",
    }
    return render(request, "projects/shipment.html", context, status=400 if request.method == "POST" else 200)


# --- hub staff and managers ------------------------------------------------------------------------------------


def _hub_staff(request: HttpRequest) -> None:
    if not user_is_hub_staff(user=request.user):
        raise Http404(_("This page is for hub staff."))


@login_required
def hub_dashboard(request: HttpRequest) -> HttpResponse:
    _hub_staff(request)
    context = {
        "applications": project_list_for_review(user=request.user),
        "requests": device_request_list_to_allocate(user=request.user),
        "shipments": shipment_list_visible(user=request.user).exclude(status=Shipment.Status.DELIVERED)[:50],
        "flagged": delivery_lines_flagged(user=request.user),
        "stories": story_list_for_review(user=request.user),
        "confirmations": delivery_list_visible(user=request.user).filter(
            shipment__hub__in=project_list_visible(user=request.user).values("hub")
        )[:20],
    }
    return render(request, "projects/hub.html", context)


def _hub_project(request: HttpRequest, pk: int) -> Project:
    _hub_staff(request)
    project = project_list_visible(user=request.user).filter(pk=pk).first()
    if project is None or not user_can_act_in_hub(user=request.user, hub_id=project.hub_id):
        raise Http404(_("No such project at your hubs."))
    return project


@login_required
def hub_review(request: HttpRequest, pk: int) -> HttpResponse:
    project = _hub_project(request, pk)
    if request.method == "POST" and not user_is_hub_manager(user=request.user, hub_id=project.hub_id):
        # Technicians see the application (404 outside their hubs); deciding on it is the manager's (403).
        raise PermissionDenied(_("Only a manager of this hub reviews its applications."))
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project_review(project=project, reviewer=request.user, **form.cleaned_data)
        except ProjectError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your decision is recorded and the coordinator is told."))
            return redirect("projects:hub")
    context = {
        "project": project,
        "requests": project.requests.all(),
        "form": form,
        "is_manager": user_is_hub_manager(user=request.user, hub_id=project.hub_id),
    }
    return render(request, "projects/hub_review.html", context, status=400 if request.method == "POST" else 200)


@login_required
def hub_request(request: HttpRequest, pk: int) -> HttpResponse:
    _hub_staff(request)
    device_request = DeviceRequest.objects.select_related("project", "project__hub").filter(pk=pk).first()
    if device_request is None or not user_can_act_in_hub(user=request.user, hub_id=device_request.project.hub_id):
        raise Http404(_("No such device request at your hubs."))
    if request.method == "POST":
        try:
            if "suggested" in request.POST:
                done = request_allocate_suggested(request=device_request, actor=request.user)
            elif "misfit" in request.POST:
                reason = request.POST.get("fit_exception", "").strip()
                if not reason:
                    raise ProjectError(_("Say why this device goes though it does not fit the request."))
                ids = [int(v) for v in request.POST.getlist("misfit_device") if v.isdigit()]
                done = request_allocate(
                    request=device_request, devices=ids, actor=request.user, fit_exception=reason[:2000]
                )
            else:
                ids = [int(v) for v in request.POST.getlist("devices") if v.isdigit()]
                done = request_allocate(
                    request=device_request, devices=ids, actor=request.user, override=bool(request.POST.get("override"))
                )
        except (ProjectError, LifecycleError) as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                ngettext("%(count)s device allocated.", "%(count)s devices allocated.", len(done))
                % {"count": len(done)},
            )
        return redirect("projects:hub-request", pk=device_request.pk)
    allocated = device_request.allocations.select_related("device").order_by("id")
    context = {
        "device_request": device_request,
        "project": device_request.project,
        "fitting": device_list_fitting(request=device_request)[:100],
        "not_fitting": device_list_not_fitting(request=device_request)[:100],
        "allocated": allocated,
        "remaining": max(device_request.quantity - len(allocated), 0),
        "unshipped": allocation_list_unshipped(project=device_request.project),
        "carrier_form": CarrierForm(),
        "is_manager": user_is_hub_manager(user=request.user, hub_id=device_request.project.hub_id),
    }
    return render(request, "projects/hub_request.html", context)


@login_required
@require_POST
def hub_shipment_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = _hub_project(request, pk)
    form = CarrierForm(request.POST)
    form.is_valid()
    ids = [int(v) for v in request.POST.getlist("devices") if v.isdigit()]
    try:
        shipment = shipment_create(
            project=project,
            actor=request.user,
            device_ids=ids or None,
            carrier=form.cleaned_data.get("carrier", ""),
            tracking_reference=form.cleaned_data.get("tracking_reference", ""),
        )
    except ProjectError as error:
        messages.error(request, error.message)
        return redirect("projects:hub")
    messages.success(request, _("Shipment %(id)s is put together.") % {"id": shipment.pk})
    return redirect("projects:hub-shipment", pk=shipment.pk)


def _hub_shipment(request: HttpRequest, pk: int) -> Shipment:
    _hub_staff(request)
    shipment = shipment_list_visible(user=request.user).filter(pk=pk).first()
    if shipment is None or not user_can_act_in_hub(user=request.user, hub_id=shipment.hub_id):
        raise Http404(_("No such shipment at your hubs."))
    return shipment


@login_required
def hub_shipment(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = _hub_shipment(request, pk)
    carrier_form = CarrierForm(
        request.POST or None, initial={"carrier": shipment.carrier, "tracking_reference": shipment.tracking_reference}
    )
    if request.method == "POST":
        try:
            if "ship" in request.POST:
                # What was typed beside the button is kept: the carrier and tracking reference are saved first,
                # so a refused ship loses nothing either.
                if carrier_form.is_valid() and carrier_form.has_changed():
                    shipment_set_carrier(shipment=shipment, actor=request.user, **carrier_form.cleaned_data)
                shipment_ship(shipment=shipment, actor=request.user)
                messages.success(request, _("Shipment %(id)s is shipped, with all its devices.") % {"id": shipment.pk})
            elif carrier_form.is_valid():
                shipment_set_carrier(shipment=shipment, actor=request.user, **carrier_form.cleaned_data)
                messages.success(request, _("Carrier and tracking reference saved."))
        except (ProjectError, LifecycleError) as error:
            messages.error(request, error.message)
        return redirect("projects:hub-shipment", pk=shipment.pk)
    confirmations = list(
        DeliveryConfirmation.objects.filter(shipment=shipment).prefetch_related("corrections", "lines").order_by("id")
    )
    for confirmation in confirmations:
        confirmation.people_now = delivery_people_current(confirmation=confirmation)
        confirmation.correction_form = CorrectionForm(
            prefix=f"c{confirmation.pk}", initial={"people_served": confirmation.people_now}
        )
    context = {
        "shipment": shipment,
        "devices": shipment.devices.order_by("id"),
        "carrier_form": carrier_form,
        "confirmations": confirmations,
        "is_manager": user_is_hub_manager(user=request.user, hub_id=shipment.hub_id),
        "flagged": DeliveryLine.objects.filter(confirmation__shipment=shipment)
        .exclude(outcome="delivered")
        .select_related("device"),
    }
    return render(request, "projects/hub_shipment.html", context)


@login_required
def packing_list(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = _hub_shipment(request, pk)
    response = HttpResponse(packing_list_pdf(shipment=shipment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="packing-list-{shipment.pk}.pdf"'
    return response


@login_required
@require_POST
def hub_correct(request: HttpRequest, pk: int) -> HttpResponse:
    _hub_staff(request)
    confirmation = delivery_list_visible(user=request.user).filter(pk=pk).first()
    if confirmation is None or not user_can_act_in_hub(user=request.user, hub_id=confirmation.shipment.hub_id):
        raise Http404(_("No such delivery at your hubs."))
    form = CorrectionForm(request.POST, prefix=f"c{confirmation.pk}")
    if form.is_valid():
        try:
            delivery_correct(confirmation=confirmation, actor=request.user, **form.cleaned_data)
        except ProjectError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The correction is recorded; the public figures follow it."))
    else:
        messages.error(request, _("The correction needs the corrected number (1 or more) and a reason."))
    return redirect("projects:hub-shipment", pk=confirmation.shipment_id)


@login_required
@require_POST
def hub_story(request: HttpRequest, pk: int) -> HttpResponse:
    _hub_staff(request)
    story = ProjectStory.objects.select_related("project").filter(pk=pk).first()
    if story is None or not user_can_act_in_hub(user=request.user, hub_id=story.project.hub_id):
        raise Http404(_("No such story at your hubs."))
    try:
        project_story_review(story=story, reviewer=request.user, approve=request.POST.get("approve") == "1")
    except ProjectError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your decision on the story is recorded."))
    return redirect("projects:hub")
