"""The scan station: hub staff scan a serial, asset tag or label and act on the device, on a phone or a bench PC.

Plain server-rendered pages that work without JavaScript (GET for lookups, POST forms for moves). With
``static/js/scan.js`` the same forms are sent with fetch and only the result fragment is swapped, so a scan
costs a few kilobytes, not a page. Every move goes through ``device_perform_action`` (the lifecycle service
and its guards), exactly like the admin and the API.
"""

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods

from hubs.models import Hub
from hubs.selectors import restrict_to_user_hubs
from refurbishing.actions import action_form_class, device_perform_action
from refurbishing.errors import LifecycleError
from refurbishing.forms import ConfigurationForm
from refurbishing.history.timeline import device_timeline
from refurbishing.lifecycle import ACTION_LABELS, actions_from, transitions_for
from refurbishing.models import ConfigurationRecord, Device, DeviceState, SanitisationRecord
from refurbishing.scan.responses import (
    device_workers_required,
    fragment_aware,
    hub_staff_required,
    labels_response,
    wants_fragment,
)
from refurbishing.scan.sync import CACHED_STATES, OFFLINE_ACTIONS, SYNC_MAX_MOVES, transitions_target
from refurbishing.selectors import device_find_by_code, device_get_by_label_code, device_in_scope, device_list
from refurbishing.services import device_transition_refusal

# What a technician types once and repeats on every device of a batch: offered again on the next form.
REMEMBERED_FIELDS = {
    "sanitise": (
        SanitisationRecord,
        "operator",
        "-completed_at",
        ("method", "technique", "tool", "tool_version", "verification"),
    ),
    "configure": (
        ConfigurationRecord,
        "configured_by",
        "-configured_at",
        ("operating_system", "os_version", "keyboard_layout", "language", "licence"),
    ),
}


def render_scan(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The whole page, or only the result fragment when scan.js asked for it."""
    template = "refurbishing/scan/_result.html" if wants_fragment(request) else "refurbishing/scan/station.html"
    return fragment_aware(render(request, template, context, status=status))


# Moves a stray tap must not make: their button opens a short form to confirm (with a note) first.
CONFIRMED_ACTIONS = frozenset({"mark_missing"})
# Moves that end a device's journey at the hub: shown apart, last, as destructive (never the primary button).
DESTRUCTIVE_ACTIONS = frozenset({"mark_missing"})


def _needs_details(action: str) -> bool:
    if action in CONFIRMED_ACTIONS or any(t.needs for t in transitions_for(action)):
        return True
    return any(field.required for field in action_form_class(action).base_fields.values())


def device_card_context(request: HttpRequest, device: Device, **extra: Any) -> dict[str, Any]:
    """The card: the device, the moves its guards allow now (the others listed with why not), its history."""
    actions, not_yet = [], []
    for action in actions_from(device.state):
        refusal = device_transition_refusal(device=device, action=action, device_only=True, actor=request.user)
        item = {
            "action": action,
            "label": ACTION_LABELS[action],
            "needs_details": _needs_details(action),
            "destructive": action in DESTRUCTIVE_ACTIONS,
        }
        if refusal:
            not_yet.append({**item, "reason": refusal})
        else:
            actions.append(item)
    # The ordinary next step first; a move that ends the device's journey at the hub comes last.
    actions.sort(key=lambda item: item["destructive"])
    return {
        "device": device,
        "actions": actions,
        "not_yet": not_yet,
        "timeline": device_timeline(device=device),
        **extra,
    }


def _action_form(request: HttpRequest, action: str, device: Device | None, data=None) -> forms.Form:
    form_class = action_form_class(action)
    initial = {}
    remembered = REMEMBERED_FIELDS.get(action)
    if remembered and data is None:
        model, person, order, names = remembered
        last = model.objects.filter(**{person: request.user}).order_by(order).first()
        if last is not None:
            initial = {name: getattr(last, name) for name in names}
    # The configure form shows what the device has, from the donor's list or its hardware report, to confirm.
    described = {"device": device} if issubclass(form_class, ConfigurationForm) else {}
    form = form_class(data=data, initial=initial, auto_id="scan-%s", **described)
    if "notes" in form.fields and "note" in form.fields:
        # The record's own notes (inspection, configuration) say it; a second "note" box beside them is noise.
        del form.fields["note"]
    # Choices of hubs and projects offer only the user's hubs (the services check again when moving).
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            continue
        if queryset.model is Hub:
            field.queryset = restrict_to_user_hubs(queryset, user=request.user, field="pk", action="act")
        elif any(f.name == "hub" for f in queryset.model._meta.get_fields()):
            field.queryset = restrict_to_user_hubs(queryset, user=request.user, action="act")
    return form


def _device_or_404(request: HttpRequest, label_code: str) -> Device:
    try:
        return device_get_by_label_code(user=request.user, label_code=label_code)
    except Device.DoesNotExist:
        raise Http404(_("No device with this label at your hubs.")) from None


@device_workers_required
@require_http_methods(["GET"])
def station(request: HttpRequest) -> HttpResponse:
    """The scan field, and what the scanned code names: one device, several, or nothing."""
    code = request.GET.get("code", "").strip()[:80]
    context: dict[str, Any] = {"code": code}
    if code:
        matches = device_find_by_code(user=request.user, code=code)
        if len(matches) == 1:
            context |= device_card_context(request, matches[0])
        elif matches:
            context["matches"] = matches
        else:
            context["unknown"] = True
    context["max_moves"] = SYNC_MAX_MOVES
    return render_scan(request, context, status=404 if context.get("unknown") else 200)


@device_workers_required
@require_http_methods(["GET"])
def offline_kit(request: HttpRequest) -> HttpResponse:
    """What the station's script needs to work offline, apart from the page (so each scan's page stays small)."""
    return fragment_aware(
        render(request, "refurbishing/scan/offline_kit.html", {"offline": offline_station_context(request)})
    )


def offline_station_context(request: HttpRequest) -> dict[str, Any]:
    """What the station's script needs to work offline: the moves it may queue from each state (with their forms,
    as the server draws them), and its sentences in the person's language."""
    forms_offline = []
    for action in OFFLINE_ACTIONS:
        form = _action_form(request, action, None)
        forms_offline.append({"action": action, "label": ACTION_LABELS[action], "form": form})
    lifecycle = {
        "actions": {str(state): [a for a in actions_from(state) if a in OFFLINE_ACTIONS] for state in CACHED_STATES},
        "labels": {action: str(ACTION_LABELS[action]) for action in OFFLINE_ACTIONS},
        "needs_details": {action: _needs_details(action) for action in OFFLINE_ACTIONS},
        "targets": {action: transitions_target(action, {"passed": True}) for action in OFFLINE_ACTIONS},
        "failed_target": transitions_target("inspect", {"passed": False}),
        "states": {str(value): str(label) for value, label in DeviceState.choices},
    }
    return {
        "forms": forms_offline,
        "lifecycle": lifecycle,
        "strings": offline_strings(),
        "max_moves": SYNC_MAX_MOVES,
    }


def offline_strings() -> dict[str, str]:
    """The offline station's sentences, for its script (which has no catalogue of its own)."""
    return {
        "queue_one": ngettext("Offline: %(count)s move waiting", "Offline: %(count)s moves waiting", 1),
        "queue_many": ngettext("Offline: %(count)s move waiting", "Offline: %(count)s moves waiting", 2),
        "queue_none": _("Offline: no move waiting"),
        "queue_online_one": ngettext("%(count)s move waiting to be sent", "%(count)s moves waiting to be sent", 1),
        "queue_online_many": ngettext("%(count)s move waiting to be sent", "%(count)s moves waiting to be sent", 2),
        "queue_note": _("Kept on this device, and sent by themselves when the connection returns."),
        "status_offline": _(
            "Offline. Scans are looked up among the %(count)s devices kept on this device; moves wait here until "
            "the connection returns."
        ),
        "sending": _("Sending the moves waiting…"),
        "sync_done": _(
            "Sent: %(applied)s applied, %(duplicate)s already recorded, %(refused)s refused, %(conflict)s in conflict."
        ),
        "sign_in": _(
            "Your session has ended. Sign in again to send the moves waiting: they stay on this device meanwhile."
        ),
        "sign_in_link": _("Sign in again"),
        "send_now": _("Send now"),
        "drop": _("Drop"),
        "drop_label": _("Drop %(action)s of %(device)s"),
        "not_found": _(
            "Nothing is known by “%(code)s” among the devices kept on this device. Check the code, or try again "
            "once online."
        ),
        "several": _("%(count)s devices match “%(code)s”: choose one."),
        "queued": _("%(action)s of %(device)s kept: it will be sent when the connection returns."),
        "card_note": _("Offline: what this device kept about it. The server checks every move again when it is sent."),
        "no_moves": _("No move can be kept for this device offline."),
        "next": pgettext("scan station: the actions that may come next", "Next"),
        "record": _("Record: %(action)s"),
        "cancel": _("Cancel"),
        "at_hub": _("at %(hub)s"),
        "label": pgettext("device label code", "Label"),
        "serial": _("Serial"),
        "asset_tag": _("Asset tag"),
        "model": _("Model"),
        "outcomes": _("Answers from the server"),
        "applied": _("applied"),
        "duplicate": _("already recorded"),
        "refused": _("refused"),
        "conflict": _("conflict"),
        # Transfer check-in (a transfer chosen above the scan field).
        # Short enough for a closed select at 390 px; the line under it says the rest, wrapped.
        "transfer_option": _("%(reference)s: %(count)s to check in"),
        "transfer_detail": _(
            "%(reference)s, from %(from_hub)s to %(to_hub)s: %(count)s of %(total)s still to check in."
        ),
        "check_in_label": _("Check in from %(reference)s"),
        "checked_in": _("Check-in of %(device)s from %(reference)s kept: it is sent with the moves waiting."),
        # As the server answers the same scans (transfer_check_in_scan).
        "not_in_transfer": _("%(scan)s is not in transfer %(reference)s."),
        "already_checked_in": _("%(device)s was already checked in."),
    }


@device_workers_required
@require_http_methods(["GET"])
def device_card(request: HttpRequest, label_code: str) -> HttpResponse:
    """One device by its label (the URL its QR code holds)."""
    device = _device_or_404(request, label_code)
    return render_scan(request, device_card_context(request, device))


@device_workers_required
@require_http_methods(["GET", "POST"])
def device_action(request: HttpRequest, label_code: str, action: str) -> HttpResponse:
    """GET: the action's short form. POST: the move, through the lifecycle service, then the card again."""
    device = _device_or_404(request, label_code)
    try:
        action_form_class(action)
    except LifecycleError:
        raise Http404(_("No such action.")) from None
    if request.method == "GET":
        form = _action_form(request, action, device)
        context = device_card_context(request, device, form=form, form_action=action, form_label=ACTION_LABELS[action])
        return render_scan(request, context)

    form = _action_form(request, action, device, data=request.POST)
    if not form.is_valid():
        context = device_card_context(request, device, form=form, form_action=action, form_label=ACTION_LABELS[action])
        return render_scan(request, context, status=400)
    seen_version = request.POST.get("version", "")
    if seen_version.isdigit():
        device.version = int(seen_version)  # the version the person saw: a move by someone else meanwhile is a conflict
    if not device_in_scope(user=request.user, device_id=device.pk, action="act"):
        raise PermissionDenied(_("You may see this device, but not move it."))
    refusal = None
    with transaction.atomic():
        try:
            device = device_perform_action(
                device=device, action=action, actor=request.user, fields={}, cleaned=form.cleaned_data
            )
        except LifecycleError as error:
            refusal = error
        # Still at a hub the person acts for? If not, the move is rolled back (403).
        if refusal is None and not device_in_scope(user=request.user, device_id=device.pk, action="act"):
            raise PermissionDenied(_("That move would take the device out of your hubs; it was not made."))
    if refusal is not None:
        error = refusal
        for name, messages in error.field_errors.items():
            if name in form.fields:
                for message in messages:
                    form.add_error(name, message)
        device.refresh_from_db()
        context = device_card_context(
            request, device, form=form, form_action=action, form_label=ACTION_LABELS[action], refusal=error.message
        )
        return render_scan(request, context, status=409 if error.code == "conflict" else 400)
    done = _("%(action)s: done. %(device)s is now %(state)s.") % {
        "action": ACTION_LABELS[action],
        "device": device,
        "state": device.get_state_display(),
    }
    return render_scan(request, device_card_context(request, device, done=done))


# Labels

LABELS_MAX = 500


@hub_staff_required
@require_http_methods(["GET"])
def labels_pdf_view(request: HttpRequest) -> HttpResponse:
    """Labels of the devices named by ``?ids=1,2,3`` (at the user's hubs), on ``?layout=a4`` or ``tape``."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()][:LABELS_MAX]
    devices = list(device_list(user=request.user).filter(pk__in=ids).order_by("pk"))
    if not devices:
        raise Http404(_("None of these devices is at your hubs."))
    return labels_response(request, devices, layout=request.GET.get("layout", "a4"), filename="labels")
