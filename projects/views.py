"""The coordinator portal: a project's shipments, and confirming a delivery with the people it reaches."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from refurbishing.errors import LifecycleError
from refurbishing.forms import BENEFICIARIES_MAX

from .models import Shipment
from .selectors import project_list_for_user, shipment_get_for_coordinator
from .services import shipment_deliver


class DeliveryConfirmationForm(forms.Form):
    """What a coordinator confirms for a whole shipment (projects/forms.py holds the per-device action forms)."""

    beneficiaries = forms.IntegerField(
        label=gettext_lazy("People these devices reach"),
        min_value=0,
        # A slip of the keyboard would go straight into the public totals; no single shipment reaches more.
        max_value=BENEFICIARIES_MAX,
        help_text=gettext_lazy("Students, patients, entrepreneurs... who will use the devices."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _delivery_form(shipment: Shipment, data=None) -> DeliveryConfirmationForm:
    # Several forms on one page: ids must stay unique for the labels to point at the right input.
    return DeliveryConfirmationForm(data=data, auto_id=f"id_shipment{shipment.pk}_%s")


def _render_portal(request: HttpRequest, *, bound: DeliveryConfirmationForm | None = None, bound_pk=None):
    projects = list(project_list_for_user(user=request.user))
    for project in projects:
        for shipment in project.shipments.all():
            if shipment.status == Shipment.Status.SHIPPED:
                shipment.delivery_form = bound if shipment.pk == bound_pk else _delivery_form(shipment)
    status = 400 if bound is not None else 200
    return render(request, "projects/portal.html", {"projects": projects}, status=status)


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    return _render_portal(request)


@login_required
@require_POST
def shipment_confirm_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        shipment = shipment_get_for_coordinator(user=request.user, pk=pk)
    except Shipment.DoesNotExist:
        raise Http404(_("No such shipment among your projects.")) from None
    form = _delivery_form(shipment, data=request.POST)
    if not form.is_valid():
        return _render_portal(request, bound=form, bound_pk=shipment.pk)

    user = request.user
    note = f"Delivery confirmed by {user.get_username()} (project coordinator)"
    if form.cleaned_data["note"]:
        note += f": {form.cleaned_data['note']}"
    try:
        # actor=None on purpose. A coordinator is not staff of the hub the devices were shipped from, and
        # device_transition refuses actors outside the device's hub (user_can_act_in_hub). The scope check
        # that matters here is the one above: only this project's coordinators reach this line. So the move
        # is recorded as a system move made on their behalf, and the note on every event names who confirmed.
        shipment = shipment_deliver(
            shipment=shipment,
            actor=None,
            beneficiaries=form.cleaned_data["beneficiaries"],
            note=note,
        )
    except LifecycleError as exc:
        messages.error(request, exc.message)
    else:
        people = shipment.beneficiaries_confirmed
        messages.success(
            request,
            ngettext(
                "Thank you! Delivery of shipment %(pk)s to %(project)s is confirmed, reaching %(people)s person.",
                "Thank you! Delivery of shipment %(pk)s to %(project)s is confirmed, reaching %(people)s people.",
                people,
            )
            % {
                "pk": shipment.pk,
                "project": shipment.project.name,
                "people": number_format(people, force_grouping=True),
            },
        )
    return redirect("projects:portal")
