"""Donations' services: pledges."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.imports.spreadsheet import (
    storage_default,
)
from donations.models import Donation, DonationChange, Donor
from hubs.models import Hub
from refurbishing.errors import LifecycleError
from refurbishing.models import DeviceState
from refurbishing.selectors import (
    device_counts_by_state,
    device_donation_has_arrivals,
    device_list_for_donation,
)
from refurbishing.services import (
    device_register_many,
    device_transition,
)

from .common import DonationError


def _next_reference(donation: Donation) -> str:
    return f"DON-{donation.pledged_at:%Y}-{donation.pk:06d}"


def _with_storage_default(row: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(row)
    if row.get("has_storage_media") is None:
        row["has_storage_media"] = storage_default(row.get("category", ""))
    return row


def hub_pledge_refusal(hub: Hub) -> str | None:
    """Why companies cannot pledge to ``hub`` (its kind takes no donations from them), or None if they can."""
    if not hub.kind.takes_company_donations:
        return _("%(hub)s does not take donations from companies; choose another hub.") % {"hub": hub.name}
    return None


def donation_create(
    *,
    donor: Donor,
    hub: Hub,
    pickup_address: str,
    actor: AbstractBaseUser | None,
    pickup_date=None,
    notes: str = "",
) -> Donation:
    """A donation with no devices yet; the caller adds them in the same transaction (a pledge needs some)."""
    if not hub.active:
        raise DonationError(_("%(hub)s does not take donations at the moment; choose another hub.") % {"hub": hub.name})
    refusal = hub_pledge_refusal(hub)
    if refusal:
        raise DonationError(refusal)
    if pickup_date and pickup_date < timezone.localdate():
        raise DonationError(_("The pickup date cannot be in the past: choose today or a later date."))
    donation = Donation.objects.create(
        reference=f"PENDING-{timezone.now():%H%M%S%f}",
        donor=donor,
        hub=hub,
        pickup_address=pickup_address,
        pickup_date=pickup_date,
        notes=notes,
        created_by=actor,
    )
    donation.reference = _next_reference(donation)
    donation.save(update_fields=["reference"])
    return donation


def donation_pledge(
    *,
    donor: Donor,
    hub: Hub,
    pickup_address: str,
    rows: Iterable[Mapping[str, Any]],
    actor: AbstractBaseUser | None,
    pickup_date=None,
    notes: str = "",
) -> Donation:
    """Create a donation and register its devices as pledged; nothing is saved if any row is refused."""
    rows = [_with_storage_default(row) for row in rows]
    if not rows:
        raise DonationError(_("A donation needs at least one device."))
    try:
        with transaction.atomic():
            donation = donation_create(
                donor=donor, hub=hub, pickup_address=pickup_address, pickup_date=pickup_date, notes=notes, actor=actor
            )
            device_register_many(donation=donation, hub=hub, actor=actor, rows=rows)
    except IntegrityError as exc:
        raise DonationError(
            _(
                "One of these devices is already registered (same manufacturer and serial number). "
                "Check the serial numbers and try again; nothing was saved."
            )
        ) from exc
    except LifecycleError as exc:
        raise DonationError(exc.message) from exc
    return donation


def donation_change_record(
    *, donation: Donation, actor: AbstractBaseUser | None, kind: str, changes: Mapping[str, Any]
) -> DonationChange:
    """Append one entry to the pledge's history (called inside the change's own transaction)."""
    return DonationChange.objects.create(donation=donation, actor=actor, kind=kind, changes=dict(changes))


EDITABLE_PLEDGE_FIELDS = ("pickup_address", "pickup_date", "notes")


def donation_update(*, donation: Donation, actor: AbstractBaseUser, fields: Mapping[str, Any]) -> Donation:
    """Change a pledge's pickup details until its first device is received; the change joins its history."""
    unknown = set(fields) - set(EDITABLE_PLEDGE_FIELDS)
    if unknown:
        raise DonationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    pickup_date = fields.get("pickup_date")
    if pickup_date and pickup_date < timezone.localdate():
        raise DonationError(_("The pickup date cannot be in the past: choose today or a later date."))
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        check_editable(locked)
        changes = {}
        for name, value in fields.items():
            old = getattr(locked, name)
            if old != value:
                changes[name] = [_jsonable(old), _jsonable(value)]
                setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
            donation_change_record(donation=locked, actor=actor, kind=DonationChange.Kind.EDITED, changes=changes)
    return locked


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def donation_cancel(*, donation: Donation, actor: AbstractBaseUser, reason: str = "") -> Donation:
    """Cancel a pledge until its first device is received: its devices are marked as never arriving.

    Each device moves through the core's lifecycle service (``mark_missing``, with the reason as the event's
    note), so the chain of custody says what happened; the cancel joins the pledge's history.
    """
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        check_editable(locked)
        locked.status = Donation.Status.CANCELLED
        locked.save(update_fields=["status"])
        note = _("Donation cancelled by the donor.") + (f" {reason}" if reason else "")
        for device in device_list_for_donation(donation_id=locked.pk).filter(state=DeviceState.PLEDGED):
            # The donor is not hub staff: the move is the system's, recorded with the donor's words.
            device_transition(device=device, action="mark_missing", actor=None, note=note)
        donation_change_record(
            donation=locked, actor=actor, kind=DonationChange.Kind.CANCELLED, changes={"reason": reason}
        )
    return locked


def donation_sync_status(*, donation_id: int) -> bool:
    """Mark a pledged donation received once none of its devices is still awaited; tell the donor once.

    Idempotent: the status changes (and the e-mail is queued) only on the first call that finds nothing awaited;
    the e-mail itself is sent once whatever happens to its task (donations.notifications).
    Returns whether it changed.
    """
    with transaction.atomic():
        donation = Donation.objects.select_for_update().select_related("donor", "hub").get(pk=donation_id)
        if donation.status != Donation.Status.PLEDGED:
            return False
        counts = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk))
        if not counts or counts.get(DeviceState.PLEDGED, 0):
            return False
        donation.status = Donation.Status.RECEIVED
        donation.received_at = timezone.now()
        donation.save(update_fields=["status", "received_at"])
        # The message counts the devices itself, once sent: it goes out once, from a task, after commit.
        from donations.notifications import DonorNotification
        from donations.tasks import donation_notify

        transaction.on_commit(lambda: donation_notify.delay(donation_id, DonorNotification.ARRIVED.value))
    return True


# Check-in: a technician scans what arrived of a donation, then closes it.


def donation_is_editable(*, donation: Donation) -> bool:
    """A pledge changes (edit, cancel, more devices) only while nothing of it has arrived at the hub."""
    if donation.status != Donation.Status.PLEDGED:
        return False
    return not device_donation_has_arrivals(donation_id=donation.pk)


def check_editable(donation: Donation) -> None:
    if donation.status == Donation.Status.CANCELLED:
        raise DonationError(_("Donation %(reference)s was cancelled.") % {"reference": donation.reference})
    if not donation_is_editable(donation=donation):
        raise DonationError(
            _("Donation %(reference)s can no longer change: its first devices have arrived at the hub.")
            % {"reference": donation.reference}
        )
