"""Transfers between hubs: a manager sends devices (a container from BE-BRU to KE-MBA), the receiving hub scans
them in, and whatever never arrives is flagged when the check-in closes.

Every device keeps one chain of custody across hubs: ``transfer_ship`` at the origin, then ``transfer_receive``
(or ``transfer_missing``) at the destination, written by ``refurbishing.services.device_transfer_record``. The
device's state is kept, so the impact counters, which skip these links, count it once, at its first hub.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import hub_ids_for_user, user_can_act_in_hub, user_is_hub_manager
from refurbishing.errors import LifecycleError
from refurbishing.lifecycle import TRANSFERABLE_STATES
from refurbishing.models import Device, Transfer, TransferDevice
from refurbishing.services import device_transfer_record

ItemStatus = TransferDevice.Status


def transfer_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Transfer]:
    """Transfers leaving or reaching the user's hubs, with their hubs and counts per device status."""
    queryset = Transfer.objects.select_related("from_hub", "to_hub").annotate(
        device_count=Count("items"),
        received_count=Count("items", filter=Q(items__status=ItemStatus.RECEIVED)),
        missing_count=Count("items", filter=Q(items__status=ItemStatus.MISSING)),
    )
    ids = hub_ids_for_user(user=user)
    if ids is not None:
        queryset = queryset.filter(Q(from_hub_id__in=ids) | Q(to_hub_id__in=ids))
    return queryset.order_by("-shipped_at", "-id")


def _arriving_at_user_hubs(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Transfer]:
    queryset = Transfer.objects.select_related("from_hub", "to_hub")
    ids = hub_ids_for_user(user=user)
    return queryset if ids is None else queryset.filter(to_hub_id__in=ids)


def transfer_for_check_in(*, user: AbstractBaseUser | AnonymousUser, transfer_id: int) -> Transfer:
    """A transfer arriving at one of the user's hubs; raises ``Transfer.DoesNotExist`` otherwise."""
    return _arriving_at_user_hubs(user=user).get(pk=transfer_id)


def transfers_for_check_in(*, user: AbstractBaseUser | AnonymousUser, ids: Iterable[int]) -> dict[int, Transfer]:
    """Those of the given transfers that arrive at the user's hubs, by id (the others are simply absent)."""
    return {transfer.pk: transfer for transfer in _arriving_at_user_hubs(user=user).filter(pk__in=list(ids))}


def transfer_list_arriving(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Transfer]:
    """Transfers still in transit to the user's hubs, for the check-in start page."""
    queryset = transfer_list(user=user).filter(status=Transfer.Status.SHIPPED)
    ids = hub_ids_for_user(user=user)
    return queryset if ids is None else queryset.filter(to_hub_id__in=ids)


def transfer_send(
    *,
    from_hub: Hub,
    to_hub: Hub,
    devices: Iterable[Device],
    reference: str,
    actor: AbstractBaseUser,
    shipped_at: datetime | None = None,
) -> Transfer:
    """Send devices from one hub to another; managers of the origin hub only. All or nothing.

    Only devices at the origin, received or configured, and not already travelling may go.
    """
    if not user_is_hub_manager(user=actor, hub_id=from_hub.pk):
        raise LifecycleError(
            _("Only a manager of %(hub)s can send devices from it.") % {"hub": from_hub.code}, code="forbidden"
        )
    if from_hub.pk == to_hub.pk:
        raise LifecycleError(_("A transfer goes to another hub."), field_errors={"to_hub": [_("Choose another hub.")]})
    reference = reference.strip()
    if not reference:
        raise LifecycleError(
            _("Give the container or waybill reference."), field_errors={"reference": [_("Enter a reference.")]}
        )
    devices = list(devices)
    if not devices:
        raise LifecycleError(_("Choose the devices to send."))
    with transaction.atomic():
        locked = list(Device.objects.select_for_update().filter(pk__in=[d.pk for d in devices]).order_by("id"))
        travelling = set(
            TransferDevice.objects.filter(device__in=locked, status=ItemStatus.IN_TRANSIT).values_list(
                "device_id", flat=True
            )
        )
        for device in locked:
            if device.hub_id != from_hub.pk:
                raise LifecycleError(_("%(device)s is not at %(hub)s.") % {"device": device, "hub": from_hub.code})
            if device.state not in TRANSFERABLE_STATES:
                raise LifecycleError(
                    _("%(device)s is %(state)s; only received or configured devices can be sent to another hub.")
                    % {"device": device, "state": device.get_state_display()}
                )
            if device.pk in travelling:
                raise LifecycleError(_("%(device)s is already on its way to another hub.") % {"device": device})
        transfer = Transfer.objects.create(
            from_hub=from_hub,
            to_hub=to_hub,
            reference=reference,
            shipped_at=shipped_at or timezone.now(),
            shipped_by=actor,
        )
        TransferDevice.objects.bulk_create([TransferDevice(transfer=transfer, device=device) for device in locked])
        note = _("Sent to %(hub)s in %(reference)s.") % {"hub": to_hub.code, "reference": reference}
        for device in locked:
            device_transfer_record(
                device=device, action="transfer_ship", actor=actor, hub=from_hub, transfer_id=transfer.pk, note=note
            )
    return transfer


@dataclass(frozen=True)
class TransferCheckInResult:
    outcome: str  # "received" or "already_received"
    device: Device
    message: str


@dataclass(frozen=True)
class TransferSummary:
    expected: int
    received: int
    missing: int
    awaited: int


def transfer_summary(*, transfer: Transfer) -> TransferSummary:
    counts = dict(
        TransferDevice.objects.filter(transfer=transfer).values_list("status").annotate(n=Count("id")).order_by()
    )
    received = counts.get(ItemStatus.RECEIVED, 0)
    missing = counts.get(ItemStatus.MISSING, 0)
    awaited = counts.get(ItemStatus.IN_TRANSIT, 0)
    return TransferSummary(expected=received + missing + awaited, received=received, missing=missing, awaited=awaited)


def transfer_item_for_scan(*, transfer: Transfer, scan: str) -> TransferDevice | None:
    """The device of this transfer a scanned serial, asset tag or label code names (with its device), or None."""
    scan = scan.strip()
    if not scan:
        return None
    return (
        TransferDevice.objects.select_related("device")
        .filter(transfer=transfer)
        .filter(Q(device__label_code=scan.upper()) | Q(device__serial_number=scan) | Q(device__asset_tag=scan))
        .first()
    )


def transfer_check_in_scan(*, transfer: Transfer, actor: AbstractBaseUser, scan: str) -> TransferCheckInResult:
    """Receive at the destination the device a scanned serial, asset tag or label names, if it travels in this
    transfer. A device already received is reported and left alone."""
    scan = scan.strip()
    if not scan:
        raise LifecycleError(_("Scan or type a serial number, asset tag or label code."), field_errors={"scan": []})
    if not user_can_act_in_hub(user=actor, hub_id=transfer.to_hub_id):
        raise LifecycleError(
            _("%(reference)s arrives at a hub you do not work at.") % {"reference": transfer.reference},
            code="forbidden",
        )
    if transfer.status != Transfer.Status.SHIPPED:
        raise LifecycleError(_("The check-in of %(reference)s is closed.") % {"reference": transfer.reference})
    item = transfer_item_for_scan(transfer=transfer, scan=scan)
    if item is None:
        raise LifecycleError(
            _("%(scan)s is not in transfer %(reference)s.") % {"scan": scan, "reference": transfer.reference},
            code="unknown",
        )
    if item.status == ItemStatus.RECEIVED:
        return TransferCheckInResult(
            "already_received", item.device, _("%(device)s was already checked in.") % {"device": item.device}
        )
    with transaction.atomic():
        # The transfer's row first, as its close does: a scan and a close never cross (received, then missing).
        if Transfer.objects.select_for_update().filter(pk=transfer.pk, status=Transfer.Status.SHIPPED).first() is None:
            raise LifecycleError(_("The check-in of %(reference)s is closed.") % {"reference": transfer.reference})
        locked = TransferDevice.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.IN_TRANSIT:
            return TransferCheckInResult(
                "already_received", item.device, _("%(device)s was already checked in.") % {"device": item.device}
            )
        device = device_transfer_record(
            device=item.device,
            action="transfer_receive",
            actor=actor,
            hub=transfer.to_hub,
            transfer_id=transfer.pk,
            note=_("Received from %(hub)s in %(reference)s.")
            % {"hub": transfer.from_hub.code, "reference": transfer.reference},
        )
        locked.status = ItemStatus.RECEIVED
        locked.received_at = timezone.now()
        locked.save(update_fields=["status", "received_at"])
    return TransferCheckInResult("received", device, _("%(device)s checked in.") % {"device": device})


def transfer_check_in_close(*, transfer: Transfer, actor: AbstractBaseUser) -> TransferSummary:
    """Close the check-in: every device not scanned is flagged missing, with its event. Staff of the destination."""
    if not user_can_act_in_hub(user=actor, hub_id=transfer.to_hub_id):
        raise LifecycleError(
            _("%(reference)s arrives at a hub you do not work at.") % {"reference": transfer.reference},
            code="forbidden",
        )
    with transaction.atomic():
        locked = (
            Transfer.objects.select_for_update(of=("self",)).select_related("from_hub", "to_hub").get(pk=transfer.pk)
        )
        if locked.status != Transfer.Status.SHIPPED:
            raise LifecycleError(_("The check-in of %(reference)s is closed.") % {"reference": locked.reference})
        awaited = list(
            TransferDevice.objects.select_related("device")
            .filter(transfer=locked, status=ItemStatus.IN_TRANSIT)
            .order_by("id")
        )
        note = _("Never arrived at %(hub)s with %(reference)s.") % {
            "hub": locked.to_hub.code,
            "reference": locked.reference,
        }
        for item in awaited:
            device_transfer_record(
                device=item.device,
                action="transfer_missing",
                actor=actor,
                hub=locked.to_hub,
                transfer_id=locked.pk,
                note=note,
            )
        TransferDevice.objects.filter(pk__in=[i.pk for i in awaited]).update(status=ItemStatus.MISSING)
        locked.status = Transfer.Status.CLOSED
        locked.received_at = timezone.now()
        locked.save(update_fields=["status", "received_at"])
    return transfer_summary(transfer=locked)
