"""Delivery: the project confirms what arrived and how many people it reaches, and may correct it later."""

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.models import (
    DeliveryConfirmation,
    DeliveryCorrection,
    DeliveryLine,
    Project,
    Shipment,
)
from projects.services.common import ProjectError, project_data, require_manager
from projects.services.shipments import shipment_locked
from refurbishing.errors import LifecycleError
from refurbishing.forms import BENEFICIARIES_MAX
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_event_correct, device_transition

# A project may reach more people than it declared, but a figure far beyond it needs a word of explanation.
REACH_TOLERANCE = Decimal("1.2")


def _spread(total: int, count: int) -> list[int]:
    """``total`` people over ``count`` devices, the first ones carrying the remainder (sums to ``total``)."""
    if count <= 0:
        return []
    share, remainder = divmod(total, count)
    return [share + (1 if index < remainder else 0) for index in range(count)]


def project_people_confirmed(*, project: Project) -> int:
    return Shipment.objects.filter(project=project).aggregate(total=Sum("beneficiaries_confirmed"))["total"] or 0


def delivery_reach_bound(*, project: Project) -> int:
    return int((Decimal(max(project.expected_beneficiaries, 1)) * REACH_TOLERANCE).to_integral_value())


def delivery_confirm(
    *,
    shipment: Shipment,
    confirmed_by: AbstractBaseUser | None,
    idempotency_key: str,
    delivered_on: date,
    people_served: int,
    arrived: Iterable[int],
    missing: Iterable[int] = (),
    damaged: Iterable[int] = (),
    explanation: str = "",
    note: str = "",
) -> tuple[DeliveryConfirmation, bool]:
    """Confirm which devices of a shipment arrived and how many people they serve; returns (confirmation, new).

    The same ``idempotency_key`` sent twice (a form posted twice) returns the first confirmation and changes
    nothing. Arrived devices move to delivered, carrying the people spread over them (so the impact counters
    count the figure exactly once); missing and damaged ones stay shipped and are flagged to the hub. The
    shipment is delivered once none of its devices is still shipped.
    """
    key = (idempotency_key or "").strip()
    if not key:
        raise ProjectError(_("The form is missing its one-time key; reload the page and send it again."))
    existing = DeliveryConfirmation.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    arrived_ids, missing_ids, damaged_ids = (sorted(set(ids)) for ids in (arrived, missing, damaged))
    if people_served is None or people_served < 1:
        message = _("A delivery reaches at least 1 person: say how many use the devices.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    if people_served > BENEFICIARIES_MAX:
        message = _("That is more people than any one delivery reaches; check the figure.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    if not arrived_ids:
        message = _("Tick the devices that arrived (at least one).")
        raise ProjectError(message, field_errors={"arrived": [message]})
    if set(arrived_ids) & (set(missing_ids) | set(damaged_ids)) or set(missing_ids) & set(damaged_ids):
        message = _("A device is either arrived, missing or damaged, not two of them.")
        raise ProjectError(message, field_errors={"arrived": [message]})
    if delivered_on > timezone.localdate():
        message = _("The delivery date cannot be in the future.")
        raise ProjectError(message, field_errors={"delivered_on": [message]})
    with transaction.atomic():
        shipment = shipment_locked(shipment.pk)
        existing = DeliveryConfirmation.objects.filter(idempotency_key=key).first()
        if existing is not None:  # the same form, sent twice at once: the first one won the lock
            return existing, False
        if shipment.status == Shipment.Status.PREPARING:
            raise ProjectError(_("Shipment %(id)s has not been shipped yet.") % {"id": shipment.pk})
        if shipment.status == Shipment.Status.DELIVERED:
            raise ProjectError(
                _("Every device of shipment %(id)s is confirmed delivered already.") % {"id": shipment.pk},
                code="conflict",
            )
        if shipment.shipped_at and delivered_on < timezone.localdate(shipment.shipped_at):
            message = _("The delivery date cannot be before the shipment left the hub.")
            raise ProjectError(message, field_errors={"delivered_on": [message]})
        on_the_way = {
            d.pk: d for d in shipment.devices.select_for_update().filter(state=Device.State.SHIPPED).order_by("id")
        }
        unknown = (set(arrived_ids) | set(missing_ids) | set(damaged_ids)) - set(on_the_way)
        if unknown:
            raise ProjectError(
                _("Some ticked devices are not on their way in this shipment (already confirmed, or another one's)."),
                code="conflict",
            )
        project = shipment.project
        bound = delivery_reach_bound(project=project)
        total_after = project_people_confirmed(project=project) + people_served
        if total_after > bound and not explanation.strip():
            message = _(
                "With this delivery the project would reach %(total)s people, more than the %(declared)s it declared "
                "it would serve. Check the figure, or explain why it is right."
            ) % {"total": total_after, "declared": project.expected_beneficiaries}
            raise ProjectError(message, field_errors={"explanation": [message]})
        confirmation = DeliveryConfirmation.objects.create(
            shipment=shipment,
            idempotency_key=key,
            delivered_on=delivered_on,
            people_served=people_served,
            explanation=explanation.strip(),
            note=note,
            confirmed_by=confirmed_by,
        )
        who = confirmed_by.get_username() if confirmed_by is not None else "-"
        event_note = f"Delivery confirmed by {who} (project coordinator)" + (f": {note}" if note else "")
        for device_id, share in zip(arrived_ids, _spread(people_served, len(arrived_ids)), strict=True):
            data = project_data(project, shipment) | {"beneficiaries": share, "confirmation_id": confirmation.pk}
            # actor=None: a coordinator is not staff of the hub the devices left; the note names who confirmed.
            device_transition(device=on_the_way[device_id], action="deliver", actor=None, note=event_note, data=data)
            DeliveryLine.objects.create(
                confirmation=confirmation,
                device_id=device_id,
                outcome=DeliveryLine.Outcome.DELIVERED,
                beneficiaries=share,
            )
        for outcome, ids in ((DeliveryLine.Outcome.MISSING, missing_ids), (DeliveryLine.Outcome.DAMAGED, damaged_ids)):
            DeliveryLine.objects.bulk_create(
                [DeliveryLine(confirmation=confirmation, device_id=pk, outcome=outcome) for pk in ids]
            )
        shipment.beneficiaries_confirmed = (shipment.beneficiaries_confirmed or 0) + people_served
        fields = ["beneficiaries_confirmed"]
        if not shipment.devices.filter(state=Device.State.SHIPPED).exists():  # under the shipment's lock
            shipment.status = Shipment.Status.DELIVERED
            shipment.delivered_at = timezone.now()
            fields += ["status", "delivered_at"]
        shipment.save(update_fields=fields)
    return confirmation, True


def delivery_people_current(*, confirmation: DeliveryConfirmation) -> int:
    """The people a confirmation reaches now: its figure, or its latest correction's."""
    latest = confirmation.corrections.order_by("-created_at", "-id").first()
    return latest.people_after if latest is not None else confirmation.people_served


def delivery_correct(
    *,
    confirmation: DeliveryConfirmation,
    actor: AbstractBaseUser,
    people_served: int,
    reason: str,
) -> DeliveryCorrection:
    """A hub manager corrects the people a confirmation reaches, with a reason: a new row and new device events.

    Each delivered device's event gets a ``correct_reach`` event carrying the difference of its share, so the
    impact counters fold the difference and nothing written before changes.
    """
    shipment = confirmation.shipment
    require_manager(user=actor, hub_id=shipment.hub_id, what=_("correct a delivery"))
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the figure is corrected.")
        raise ProjectError(message, field_errors={"reason": [message]})
    if people_served is None or people_served < 1:
        message = _("A delivery reaches at least 1 person.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    with transaction.atomic():
        shipment = shipment_locked(shipment.pk)
        confirmation = DeliveryConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        before = delivery_people_current(confirmation=confirmation)
        if before == people_served:
            message = _("The confirmation already says %(people)s people.") % {"people": people_served}
            raise ProjectError(message, field_errors={"people_served": [message]})
        correction = DeliveryCorrection.objects.create(
            confirmation=confirmation,
            people_before=before,
            people_after=people_served,
            reason=reason,
            corrected_by=actor,
        )
        lines = list(confirmation.lines.filter(outcome=DeliveryLine.Outcome.DELIVERED).order_by("device_id"))
        old_shares = _spread(before, len(lines))
        new_shares = _spread(people_served, len(lines))
        month = confirmation.delivered_on.replace(day=1)
        delivered_events = dict(
            DeviceEvent.objects.filter(
                device_id__in=[line.device_id for line in lines],
                action="deliver",
                data__confirmation_id=confirmation.pk,
            ).values_list("device_id", "occurred_at")
        )
        for line, old, new in zip(lines, old_shares, new_shares, strict=True):
            if old == new:
                continue
            occurred = delivered_events.get(line.device_id)
            device_event_correct(
                device=line.device,
                action="correct_reach",
                actor=actor,
                note=f"Reach corrected by {actor.get_username()}: {reason}",
                data=project_data(shipment.project, shipment)
                | {
                    "beneficiaries_delta": new - old,
                    "confirmation_id": confirmation.pk,
                    "correction_id": correction.pk,
                    "month": (occurred.date().replace(day=1) if occurred else month).isoformat(),
                },
            )
        shipment.beneficiaries_confirmed = (shipment.beneficiaries_confirmed or 0) + people_served - before
        shipment.save(update_fields=["beneficiaries_confirmed"])
    return correction


def shipment_deliver(
    *,
    shipment: Shipment,
    actor: AbstractBaseUser | None,
    beneficiaries: int,
    note: str = "",
) -> Shipment:
    """Confirm every device still on its way in the shipment as arrived today, reaching ``beneficiaries`` people."""
    device_ids = list(shipment.devices.filter(state=Device.State.SHIPPED).values_list("pk", flat=True))
    try:
        delivery_confirm(
            shipment=shipment,
            confirmed_by=actor,
            idempotency_key=uuid.uuid4().hex,
            delivered_on=timezone.localdate(),
            people_served=beneficiaries,
            arrived=device_ids,
            explanation=note or "",
            note=note,
        )
    except ProjectError as error:
        raise LifecycleError(error.message, code=error.code, field_errors=error.field_errors) from error
    return Shipment.objects.get(pk=shipment.pk)
