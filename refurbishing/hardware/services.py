"""Writes for hardware reports, drives and per-drive wipes.

A hardware report (eReuse Workbench snapshot) is kept as evidence and matched to a device by its system serial
at the uploader's hubs. It fills in what the device did not have yet; what a person typed is never overwritten,
and each disagreement is kept on the report (``Snapshot.differences``) and shown. A report whose device does not
exist yet waits, and the ``receive`` move links it (``snapshots_link_on_receive``, declared in the lifecycle).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import hub_ids_for_user, user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.hardware.lots import drive_wipe_counts
from refurbishing.hardware.workbench import NotAWorkbenchReport, ParsedReport, parse_report
from refurbishing.models import Device
from refurbishing.models.hardware import Drive, DriveSanitisation, MediaType, Snapshot
from refurbishing.weights import device_weight_fill, weee_category_for_chassis

# A wipe recorded as finished further ahead than this is a typing mistake, not a clock drift.
COMPLETED_AT_TOLERANCE = timedelta(minutes=10)
# Device fields a report may fill in, and how the report's value is read from what was parsed.
FILLABLE_FIELDS = ("model", "cpu", "ram_gb", "storage_gb")
COMPARED_FIELDS = ("manufacturer", "model", "category", "cpu", "ram_gb", "storage_gb")


@dataclass(frozen=True)
class SnapshotResult:
    snapshot: Snapshot
    created: bool


def serial_variants(serial_number: str) -> set[str]:
    """The spellings a serial may be stored under: as read, upper case, lower case (indexes match exactly)."""
    serial_number = serial_number.strip()
    return {serial_number, serial_number.upper(), serial_number.lower()} - {""}


def _report_values(parsed: Mapping[str, Any]) -> dict[str, Any]:
    drives = parsed.get("drives") or []
    sizes = [drive.get("size_gb") for drive in drives if isinstance(drive.get("size_gb"), int)]
    return {
        "manufacturer": parsed.get("manufacturer") or "",
        "model": parsed.get("model") or "",
        "category": parsed.get("category") or "",
        "cpu": parsed.get("cpu") or "",
        "ram_gb": parsed.get("ram_gb"),
        # A machine's total, within what the device's column holds (a corrupt report could list thousands).
        "storage_gb": sum(sizes) if sizes and sum(sizes) < 2**31 else None,
    }


def _same(device_value: Any, report_value: Any) -> bool:
    if isinstance(device_value, str) and isinstance(report_value, str):
        return " ".join(device_value.split()).casefold() == " ".join(report_value.split()).casefold()
    return device_value == report_value


def _match_device(*, parsed: ParsedReport, hub_ids: set[int] | None) -> Device | None:
    """The one device at these hubs (None: every hub) with the report's system serial, or None."""
    if not parsed.serial_number:
        return None
    candidates = Device.objects.filter(serial_number__in=serial_variants(parsed.serial_number))
    if hub_ids is not None:
        candidates = candidates.filter(hub_id__in=hub_ids)
    found = list(candidates.order_by("id")[:5])
    if len(found) > 1 and parsed.manufacturer:
        found = [device for device in found if _same(device.manufacturer, parsed.manufacturer)] or found
    return found[0] if len(found) == 1 else None


def _apply_to_device(*, snapshot: Snapshot, device: Device) -> Snapshot:
    """Link the report to the device: fill in empty fields, add the drives it lacks, keep the differences.

    Runs inside the caller's transaction, with the device row locked.
    """
    locked = Device.objects.select_for_update().get(pk=device.pk)
    report = _report_values(snapshot.parsed)
    filled: list[str] = []
    differences: list[dict[str, Any]] = []
    for name in COMPARED_FIELDS:
        device_value, report_value = getattr(locked, name), report[name]
        if report_value in ("", None):
            continue
        if device_value in ("", None):
            if name in FILLABLE_FIELDS:
                setattr(locked, name, report_value)
                filled.append(name)
        elif not _same(device_value, report_value):
            differences.append({"field": name, "device": device_value, "report": report_value})
    # The report's chassis settles the WEEE category where it says (an all-in-one, a rack server); a model the
    # report filled in may have its own typical weight. A measured or declared weight stays.
    chassis_category = weee_category_for_chassis(snapshot.parsed.get("device_type") or "")
    filled += device_weight_fill(device=locked, weee_category=chassis_category, recategorise="model" in filled)
    if filled:
        locked.save(update_fields=[*filled, "updated_at"])

    existing = list(locked.drives.all())
    known_serials = {drive.serial_number.upper() for drive in existing if drive.serial_number}
    unserialled = {(drive.model.casefold(), drive.size_gb) for drive in existing if not drive.serial_number}
    new_drives = []
    for item in snapshot.parsed.get("drives") or []:
        serial_number = item.get("serial_number") or ""
        if serial_number and serial_number.upper() in known_serials:
            continue
        if not serial_number and ((item.get("model") or "").casefold(), item.get("size_gb")) in unserialled:
            continue
        new_drives.append(
            Drive(
                device=locked,
                model=item.get("model") or "",
                serial_number=serial_number,
                size_gb=item.get("size_gb"),
                media_type=item.get("media_type") if item.get("media_type") in MediaType.values else MediaType.OTHER,
                source=Drive.Source.REPORT,
                snapshot=snapshot,
            )
        )
        if serial_number:
            known_serials.add(serial_number.upper())
    Drive.objects.bulk_create(new_drives)
    if (existing or new_drives) and not locked.has_storage_media:
        differences.append({"field": "has_storage_media", "device": False, "report": True})

    snapshot.device = locked
    snapshot.linked_at = timezone.now()
    snapshot.differences = differences
    snapshot.save(update_fields=["device", "linked_at", "differences"])
    return snapshot


def _hub_for_upload(*, actor: AbstractBaseUser, hub: Hub | None, device: Device | None) -> Hub:
    if hub is not None:
        if not user_can_act_in_hub(user=actor, hub_id=hub.pk):
            raise LifecycleError(
                _("You cannot upload a report for %(hub)s: you do not work at that hub.") % {"hub": hub.code},
                code="forbidden",
            )
        return hub
    if device is not None:
        return device.hub
    ids = hub_ids_for_user(user=actor)
    if ids is not None and len(ids) == 1:
        return Hub.objects.get(pk=next(iter(ids)))
    raise LifecycleError(
        _("You work at more than one hub: say which hub this report is for."),
        field_errors={"hub": [_("Choose the hub the device is at.")]},
    )


def snapshot_create(
    *,
    report: Any,
    actor: AbstractBaseUser,
    hub: Hub | None = None,
) -> SnapshotResult:
    """Keep a Workbench report as evidence and link it to its device at the actor's hubs, if there is one.

    The same report (same ``uuid``) sent again changes nothing and returns the stored one. A body that is not a
    report raises ``LifecycleError`` saying why, and nothing is stored.
    """
    hub_ids = hub_ids_for_user(user=actor)
    if hub_ids is not None and not hub_ids:
        raise LifecycleError(_("Only hub staff can upload hardware reports."), code="forbidden")
    try:
        parsed = parse_report(report)
    except NotAWorkbenchReport as error:
        raise LifecycleError(str(error), field_errors={"report": [str(error)]}) from error

    existing = Snapshot.objects.filter(uuid=parsed.uuid).first()
    if existing is not None:
        return _same_report_again(existing=existing, actor=actor)

    if hub is not None:
        _hub_for_upload(actor=actor, hub=hub, device=None)  # refuses a hub the actor does not work at
    device = _match_device(parsed=parsed, hub_ids={hub.pk} if hub is not None else hub_ids)
    upload_hub = _hub_for_upload(actor=actor, hub=hub, device=device)
    try:
        with transaction.atomic():
            snapshot = Snapshot.objects.create(
                uuid=parsed.uuid,
                software=parsed.software[:40],
                software_version=parsed.version[:40],
                raw=report,
                parsed=parsed.as_dict(),
                serial_number=parsed.serial_number,
                manufacturer=parsed.manufacturer[:80],
                model=parsed.model,
                hub=upload_hub,
                uploaded_by=actor,
            )
            if device is not None:
                _apply_to_device(snapshot=snapshot, device=device)
    except IntegrityError:
        # The same report was stored by a parallel request a moment ago: that one stands.
        existing = Snapshot.objects.filter(uuid=parsed.uuid).first()
        if existing is None:
            raise
        return _same_report_again(existing=existing, actor=actor)
    return SnapshotResult(snapshot=snapshot, created=True)


def _same_report_again(*, existing: Snapshot, actor: AbstractBaseUser) -> SnapshotResult:
    if not user_can_act_in_hub(user=actor, hub_id=existing.hub_id):
        raise LifecycleError(
            _("This report (the same uuid) was already uploaded at another hub."),
            code="conflict",
            field_errors={"uuid": [_("This report was already uploaded at another hub.")]},
        )
    return SnapshotResult(snapshot=existing, created=False)


def snapshots_link_on_receive(*, device: Device, hub_id: int) -> list[Snapshot]:
    """Link the reports that waited for this serial at the hub receiving the device (inside the move's
    transaction: a refused move links nothing)."""
    if not device.serial_number:
        return []
    waiting = Snapshot.objects.filter(
        device__isnull=True, hub_id=hub_id, serial_number__in=serial_variants(device.serial_number)
    ).order_by("created_at", "id")
    linked = []
    for snapshot in waiting:
        if snapshot.manufacturer and not _same(snapshot.manufacturer, device.manufacturer):
            # Two makers may use the same serial: a report for another maker's machine stays waiting.
            continue
        linked.append(_apply_to_device(snapshot=snapshot, device=device))
    return linked


# Drives entered by hand and per-drive wipes


def _check_device_scope(*, actor: AbstractBaseUser, device: Device) -> None:
    if not user_can_act_in_hub(user=actor, hub_id=device.hub_id):
        raise LifecycleError(_("%(device)s is at a hub you do not work at.") % {"device": device}, code="forbidden")


def drive_create(
    *,
    device: Device,
    actor: AbstractBaseUser,
    media_type: str,
    model: str = "",
    serial_number: str = "",
    size_gb: int | None = None,
) -> Drive:
    """Add a drive a technician found in the device, by hand."""
    _check_device_scope(actor=actor, device=device)
    if media_type not in MediaType.values:
        raise LifecycleError(
            _("Choose the drive's media type: HDD, SSD, NVMe or other."),
            field_errors={"media_type": [_("Choose the drive's media type.")]},
        )
    serial_number = serial_number.strip()
    if serial_number and device.drives.filter(serial_number__in=serial_variants(serial_number)).exists():
        raise LifecycleError(
            _("%(device)s already has a drive with serial number %(serial)s.")
            % {"device": device, "serial": serial_number},
            field_errors={"serial_number": [_("This device already has a drive with this serial number.")]},
        )
    drive = Drive(
        device=device,
        model=model.strip(),
        serial_number=serial_number,
        size_gb=size_gb,
        media_type=media_type,
        source=Drive.Source.HAND,
    )
    drive.full_clean()
    drive.save()
    return drive


def drive_update(*, drive: Drive, actor: AbstractBaseUser, fields: Mapping[str, Any]) -> Drive:
    """Correct a drive's description (model, serial, size, media type); its wipe records keep what they quoted."""
    _check_device_scope(actor=actor, device=drive.device)
    allowed = {"model", "serial_number", "size_gb", "media_type"}
    unknown = set(fields) - allowed
    if unknown:
        raise LifecycleError(
            _("These fields cannot be edited here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    for name, value in fields.items():
        setattr(drive, name, value.strip() if isinstance(value, str) else value)
    drive.full_clean()
    drive.save(update_fields=list(fields))
    return drive


def drive_sanitisation_record_create(
    *,
    drive: Drive,
    recorded_by: AbstractBaseUser,
    method: str,
    technique: str,
    tool: str,
    verification: str,
    verified: bool,
    completed_at: datetime,
    operator: AbstractBaseUser | None = None,
    tool_version: str = "",
    media_type: str = "",
    notes: str = "",
) -> DriveSanitisation:
    """Record how one drive was wiped (NIST SP 800-88), as entered: by whom and when it was done, not "now".

    An unverified wipe is recorded too (it is evidence of an attempt); only a verified one lets the device
    leave the hub.
    """
    _check_device_scope(actor=recorded_by, device=drive.device)
    if completed_at is None:
        raise LifecycleError(
            _("Enter when the wipe was completed."), field_errors={"completed_at": [_("Enter the completion time.")]}
        )
    if timezone.is_naive(completed_at):
        completed_at = timezone.make_aware(completed_at)
    if completed_at > timezone.now() + COMPLETED_AT_TOLERANCE:
        raise LifecycleError(
            _("The wipe's completion time is in the future: enter when it was actually completed."),
            field_errors={"completed_at": [_("This time is in the future.")]},
        )
    record = DriveSanitisation(
        drive=drive,
        drive_serial=drive.serial_number,
        media_type=media_type or drive.media_type,
        method=method,
        technique=(technique or "").strip(),
        tool=(tool or "").strip(),
        tool_version=(tool_version or "").strip(),
        verification=verification,
        verified=bool(verified),
        notes=notes,
        operator=operator or recorded_by,
        completed_at=completed_at,
        recorded_by=recorded_by,
    )
    try:
        record.full_clean(exclude=["drive", "operator", "recorded_by"])
    except Exception as error:  # ValidationError: say which fields, in the domain error surfaces know
        errors = getattr(error, "message_dict", {})
        raise LifecycleError(
            _("Please correct the wipe's details: %(fields)s.") % {"fields": ", ".join(sorted(errors))},
            field_errors={name: [str(m) for m in messages] for name, messages in errors.items()},
        ) from error
    record.save()
    return record


def unwiped_drives(*, device: Device) -> list[Drive] | None:
    """The device's drives without a verified wipe; None when no drive of the device is known.

    One plain query for the many devices with no known drive (this guard runs on every sanitise move), a second
    for their wipes when there are drives."""
    drives = list(Drive.objects.filter(device_id=device.pk).order_by("id"))
    if not drives:
        return None
    # A wipe counts unless a failed wipe verification sample of the lot came after it (``hardware.lots``).
    wiped = set(
        DriveSanitisation.objects.filter(drive_wipe_counts(), drive__in=drives).values_list("drive_id", flat=True)
    )
    return [drive for drive in drives if drive.pk not in wiped]


def drives_described(drives: Iterable[Drive]) -> str:
    return ", ".join(str(drive) for drive in drives)
