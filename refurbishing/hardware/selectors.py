"""Reads of hardware reports, drives and wipes, scoped to the user's hubs; the rows a sanitisation certificate lists."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hubs.selectors import restrict_to_user_hubs
from refurbishing.models import Device, SanitisationRecord
from refurbishing.models.hardware import Drive, DriveSanitisation, Snapshot

User = AbstractBaseUser | AnonymousUser


def snapshot_list(*, user: User) -> QuerySet[Snapshot]:
    """Hardware reports uploaded at the user's hubs (all for superusers)."""
    return restrict_to_user_hubs(Snapshot.objects.select_related("hub", "device", "uploaded_by"), user=user)


def snapshot_waiting_for_serial(*, user: User, serial_number: str) -> Snapshot | None:
    """The newest report at the user's hubs that waits for a device with this serial, or None.

    For check-in: an unexpected device can take its category, make and model from it (``snapshot.parsed``
    holds ``category``, ``manufacturer``, ``model``); receiving the device then links the report.
    """
    serial_number = serial_number.strip()
    if not serial_number:
        return None
    variants = {serial_number, serial_number.upper(), serial_number.lower()}
    return (
        snapshot_list(user=user)
        .filter(device__isnull=True, serial_number__in=variants)
        .order_by("-created_at", "-id")
        .first()
    )


def drive_list_for_device(*, device: Device) -> QuerySet[Drive]:
    return Drive.objects.filter(device_id=device.pk).order_by("id")


DIFFERENCE_LABELS = {
    "manufacturer": _("manufacturer"),
    "model": _("model"),
    "category": _("category"),
    "cpu": _("CPU"),
    "ram_gb": _("RAM (GB)"),
    "storage_gb": _("storage (GB)"),
    "has_storage_media": _("has storage media"),
}


def differences_in_words(differences: Any) -> list[str]:
    """Each difference a report found, as a sentence in the current language."""
    rows = [item for item in differences or [] if isinstance(item, dict)]
    return [
        gettext("%(field)s: typed %(typed)s, report %(report)s")
        % {
            "field": DIFFERENCE_LABELS.get(item.get("field"), item.get("field")),
            "typed": item.get("device"),
            "report": item.get("report"),
        }
        for item in rows
    ]


def snapshot_result(snapshot: Snapshot) -> dict[str, Any]:
    """What the API and the upload page answer for a stored report: what was read, and the device it belongs to."""
    parsed = snapshot.parsed if isinstance(snapshot.parsed, dict) else {}
    return {
        "uuid": str(snapshot.uuid),
        "device": snapshot.device_id,
        "serial_number": parsed.get("serial_number", ""),
        "manufacturer": parsed.get("manufacturer", ""),
        "model": parsed.get("model", ""),
        "device_type": parsed.get("device_type", ""),
        "cpu": parsed.get("cpu", ""),
        "cpu_cores": parsed.get("cpu_cores"),
        "ram_gb": parsed.get("ram_gb"),
        "drives": [
            {
                "model": drive.get("model", ""),
                "serial_number": drive.get("serial_number", ""),
                "size_gb": drive.get("size_gb"),
                "media_type": drive.get("media_type", "other"),
            }
            for drive in parsed.get("drives") or []
        ],
        "differences": list(snapshot.differences or []),
        "warnings": list(parsed.get("warnings") or []),
    }


@dataclass(frozen=True)
class SanitisationRow:
    """One line of a sanitisation certificate: a drive and its verified wipe, or the device's own record when no
    drive is known. ``drive_*`` fields are blank for a device-level row; ``method`` is blank for a drive not yet
    wiped (a certificate only lists devices that left the hub, which cannot happen with such a drive)."""

    device_id: int
    drive_model: str
    drive_serial: str
    drive_size_gb: int | None
    media_type: str
    method: str
    technique: str
    tool: str
    tool_version: str
    verification: str
    verified: bool
    operator: str
    completed_at: datetime | None
    per_drive: bool


def _drive_row(device_id: int, drive: Drive, record: DriveSanitisation | None) -> SanitisationRow:
    return SanitisationRow(
        device_id=device_id,
        drive_model=drive.model,
        drive_serial=record.drive_serial if record else drive.serial_number,
        drive_size_gb=drive.size_gb,
        media_type=record.media_type if record else drive.media_type,
        method=record.method if record else "",
        technique=record.technique if record else "",
        tool=record.tool if record else "",
        tool_version=record.tool_version if record else "",
        verification=record.verification if record else "",
        verified=bool(record and record.verified),
        operator=record.operator.get_username() if record else "",
        completed_at=record.completed_at if record else None,
        per_drive=True,
    )


def _device_row(device_id: int, record: SanitisationRecord) -> SanitisationRow:
    return SanitisationRow(
        device_id=device_id,
        drive_model="",
        drive_serial="",
        drive_size_gb=None,
        media_type="",
        method=record.method,
        technique=record.technique,
        tool=record.tool,
        tool_version=record.tool_version,
        verification=record.verification,
        verified=record.verified,
        operator=record.operator.get_username(),
        completed_at=record.completed_at,
        per_drive=False,
    )


def _rows(device: Device) -> list[SanitisationRow]:
    drives = list(device.drives.all())
    if drives:
        rows = []
        for drive in drives:
            verified = [record for record in drive.sanitisations.all() if record.verified]
            rows.append(_drive_row(device.pk, drive, verified[0] if verified else None))
        return rows
    return [_device_row(device.pk, record) for record in device.sanitisation_records.all() if record.verified][:1]


def _with_records(queryset: QuerySet[Device]) -> QuerySet[Device]:
    return queryset.prefetch_related(
        Prefetch("drives", queryset=Drive.objects.order_by("id")),
        Prefetch(
            "drives__sanitisations",
            queryset=DriveSanitisation.objects.select_related("operator").order_by("-completed_at", "-id"),
        ),
        Prefetch(
            "sanitisation_records",
            queryset=SanitisationRecord.objects.select_related("operator").order_by("-completed_at", "-id"),
        ),
    )


def sanitisation_rows_for_device(*, device: Device) -> list[SanitisationRow]:
    """Per drive its latest verified wipe (blank if none yet); with no known drive, the device's latest verified
    record; empty when nothing was wiped."""
    return _rows(_with_records(Device.objects.filter(pk=device.pk)).get())


def sanitisation_rows_for_donation(*, donation_id: int) -> dict[int, list[SanitisationRow]]:
    """The rows of every device of a donation, by device id, in a fixed number of queries."""
    devices = _with_records(Device.objects.filter(donation_id=donation_id).order_by("id"))
    return {device.pk: _rows(device) for device in devices}


def wipe_sample_list(*, user: User) -> QuerySet:
    """Wipe verification samples of the user's hubs, newest first, with their picked media (fixed queries)."""
    from refurbishing.models import WipeSample, WipeSampleItem

    items = WipeSampleItem.objects.select_related("wiped_by", "verified_by", "drive").order_by("key")
    return (
        WipeSample.objects.restrict(user, "view")
        .select_related("hub", "donation")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("-picked_at", "-id")
    )
