"""Reads for the donor side, already scoped to the user's own organisations."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from refurbishing.models import Device, DeviceState, SanitisationRecord
from refurbishing.selectors import (
    PROGRESS_STAGES,
    device_list_with_last_move,
    device_progress_aggregates,
    sanitisation_record_list_for_donation,
)

from .models import Certificate, Donation, Donor

AnyUser = AbstractBaseUser | AnonymousUser


def donor_list_for_user(*, user: AnyUser) -> QuerySet[Donor]:
    if not user.is_authenticated:
        return Donor.objects.none()
    return Donor.objects.filter(users=user)


def donation_list_for_user(*, user: AnyUser) -> QuerySet[Donation]:
    """The donations of the donor organisations the user belongs to, with their device counts."""
    return (
        Donation.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor", "hub")
        .annotate(device_count=Count("devices"))
        .order_by("-pledged_at")
    )


def donation_list_with_progress(*, user: AnyUser) -> QuerySet[Donation]:
    """The user's donations, each with ``progress_<stage>`` counts (one query, whatever the number of devices)."""
    return (
        Donation.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor", "hub")
        .annotate(**device_progress_aggregates(prefix="devices__"))
        .order_by("-pledged_at")
    )


def donation_get_for_user(*, user: AnyUser, reference: str) -> Donation:
    """One of the user's donations with its progress; ``Donation.DoesNotExist`` for anyone else's."""
    return donation_list_with_progress(user=user).get(reference=reference)


def progress_of(donation: Donation) -> dict[str, int]:
    """The stage counts a donation from ``donation_list_with_progress`` carries, as ``{stage: count}``."""
    return {stage: getattr(donation, f"progress_{stage}") for stage in PROGRESS_STAGES}


def device_list_for_user(*, user: AnyUser, donation: Donation | None = None) -> QuerySet[Device]:
    """The devices of the user's organisations (or of one of their donations), with their donation, hub and
    the date of their latest move; nobody else's."""
    devices = Device.objects.filter(donation__donor__in=donor_list_for_user(user=user))
    if donation is not None:
        devices = devices.filter(donation=donation)
    return device_list_with_last_move(queryset=devices.select_related("donation", "hub").order_by("donation_id", "id"))


def certificate_rows_for_donation(donation: Donation) -> list[dict[str, Any]]:
    """The rows a sanitisation certificate lists: one per wipe of the donation's storage media (NIST SP 800-88).

    The one place that decides what a certificate row holds. Today a wipe is recorded per device; when wipes are
    recorded per drive, only this function changes (one row per drive, with its media type and serial).
    """
    rows = []
    for record in sanitisation_record_list_for_donation(donation_id=donation.pk):
        device = record.device
        operator = record.operator
        rows.append(
            {
                "device_id": device.pk,
                "category": device.category,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "serial_number": device.serial_number,
                "asset_tag": device.asset_tag,
                "media_type": "",
                "media_serial": "",
                "method": record.method,
                "technique": record.technique,
                "tool": record.tool,
                "tool_version": record.tool_version,
                "verification": record.verification,
                "verified": record.verified,
                "operator": operator.get_full_name() or operator.get_username(),
                "completed_at": record.completed_at.isoformat(),
            }
        )
    return rows


def recycling_rows_for_donation(donation: Donation) -> list[dict[str, Any]]:
    """The rows of a recycling certificate: every recycled device of the donation with its weight and date."""
    devices = device_list_with_last_move(
        queryset=Device.objects.filter(donation=donation, state=DeviceState.RECYCLED).order_by("id")
    )
    return [
        {
            "device_id": device.pk,
            "category": device.category,
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "asset_tag": device.asset_tag,
            "weight_kg": str(device.weight_kg) if device.weight_kg is not None else "",
            "recycled_at": device.last_moved_at.isoformat() if device.last_moved_at else "",
        }
        for device in devices
    ]


def certificate_pending_devices(donation: Donation) -> list[Device]:
    """What stands between a donation and its sanitisation certificate: storage-bearing devices still awaited, and
    those that arrived but are neither wiped nor recycled. Empty when the certificate can be issued.

    Devices marked missing never arrived, so they hold nothing up (the certificate says how many there are).
    """
    wiped = Exists(SanitisationRecord.objects.filter(device=OuterRef("pk"), verified=True))
    awaited = Q(state=DeviceState.PLEDGED)
    not_wiped = ~Q(state__in=(DeviceState.MISSING, DeviceState.RECYCLED)) & ~Q(wiped=True)
    return list(
        Device.objects.filter(donation=donation, has_storage_media=True)
        .annotate(wiped=wiped)
        .filter(awaited | not_wiped)
        .select_related("hub")
        .order_by("id")
    )


def certificate_current(*, donation: Donation, kind: str) -> Certificate | None:
    """The donation's certificate of this kind that no other supersedes, if one was issued."""
    return (
        Certificate.objects.filter(donation=donation, kind=kind, superseded_by__isnull=True)
        .order_by("-issued_at", "-id")
        .first()
    )


def certificate_get_public(*, number: str) -> Certificate:
    """A certificate by its number, for the public verification page; ``Certificate.DoesNotExist`` if unknown."""
    return Certificate.objects.select_related("superseded_by").get(number=number.strip().upper())
