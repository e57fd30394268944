"""Writes to devices: registration, edits and every lifecycle transition.

The only code that changes ``Device.state``. Each transition locks the row, checks the guard, writes the
state and a ``DeviceEvent`` in one transaction, and announces the committed move after commit.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from hubs.models import Hub
from hubs.selectors import user_can_act_in_hub

from .errors import LifecycleError
from .lifecycle import Transition, source_states, transitions_for
from .models import Device, DeviceEvent, DeviceState, InspectionRecord, SanitisationRecord
from .signals import device_transitioned

S = DeviceState
REGISTERABLE_FIELDS = (
    "category",
    "manufacturer",
    "model",
    "serial_number",
    "asset_tag",
    "has_storage_media",
    "cpu",
    "ram_gb",
    "storage_gb",
    "year",
    "weight_kg",
)
EDITABLE_FIELDS = (*REGISTERABLE_FIELDS, "hub")


def _state_label(state: str) -> str:
    return str(S(state).label) if state in S.values else state


def _announce(event: DeviceEvent) -> None:
    payload = {
        "event_id": event.pk,
        "device_id": event.device_id,
        "action": event.action,
        "to_state": event.to_state,
        "hub_id": event.hub_id,
    }
    transaction.on_commit(lambda: device_transitioned.send(sender=Device, **payload))


def device_register_many(
    *,
    donation: Any,
    hub: Hub,
    actor: AbstractBaseUser | None,
    rows: Iterable[Mapping[str, Any]],
) -> list[Device]:
    """Register pledged devices for a donation, each with its first chain-of-custody event.

    Rows are already validated (by a form or the spreadsheet importer); the database still holds the
    serial-number uniqueness, so a duplicate rolls the whole batch back.
    """
    now = timezone.now()
    with transaction.atomic():
        devices = Device.objects.bulk_create(
            [
                Device(donation=donation, hub=hub, **{k: v for k, v in row.items() if k in REGISTERABLE_FIELDS})
                for row in rows
            ]
        )
        events = DeviceEvent.objects.bulk_create(
            [
                DeviceEvent(
                    device=device,
                    action="pledge",
                    from_state="",
                    to_state=S.PLEDGED,
                    actor=actor,
                    hub=hub,
                    occurred_at=now,
                    data={"donation_id": donation.pk},
                )
                for device in devices
            ]
        )
        for event in events:
            _announce(event)
    return devices


def device_update(*, device: Device, actor: AbstractBaseUser, fields: Mapping[str, Any]) -> Device:
    """Edit a device's description or move it to another hub the actor works at."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise LifecycleError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if not user_can_act_in_hub(user=actor, hub_id=locked.hub_id):
            raise LifecycleError(f"{locked} is at a hub you do not work at.", code="forbidden")
        new_hub = fields.get("hub")
        if new_hub is not None and new_hub.pk != locked.hub_id:
            if not user_can_act_in_hub(user=actor, hub_id=new_hub.pk):
                raise LifecycleError(
                    f"You cannot move {locked} to {new_hub.code}: you do not work at that hub.",
                    code="forbidden",
                )
            if locked.state not in (S.PLEDGED, S.RECEIVED, S.SANITISED, S.INSPECTED, S.CONFIGURED):
                raise LifecycleError(
                    f"{locked} is {_state_label(locked.state)}; only devices still in a hub's care can change hub."
                )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["donation"])
        locked.save(update_fields=[*fields.keys(), "updated_at"])
    return locked


def _pick_transition(*, device: Device, action: str, outcome: str) -> Transition:
    candidates = transitions_for(action)
    if not candidates:
        raise LifecycleError(f"'{action}' is not a device action.")
    if device.state not in source_states(action):
        allowed = " or ".join(_state_label(s) for s in sorted(source_states(action)))
        raise LifecycleError(
            f"Cannot {action.replace('_', ' ')} {device}: it is {_state_label(device.state)}, "
            f"and only a device that is {allowed} can be."
        )
    for candidate in candidates:
        if candidate.outcome == outcome and device.state in candidate.sources:
            return candidate
    raise LifecycleError(f"'{action}' needs an outcome ({', '.join(c.outcome for c in candidates)}).")


def _check_guards(
    *,
    device: Device,
    transition: Transition,
    record: Mapping[str, Any],
    data: Mapping[str, Any],
) -> None:
    if transition.action == "sanitise" and not device.has_storage_media:
        raise LifecycleError(f"{device} has no storage media, so there is nothing to wipe: inspect it directly.")
    if transition.action == "inspect" and device.state == S.RECEIVED and device.has_storage_media:
        raise LifecycleError(
            f"{device} has storage media that has not been sanitised: record a verified wipe before inspecting it."
        )
    if (
        transition.needs_sanitised_storage
        and device.has_storage_media
        and not device.sanitisation_records.filter(verified=True).exists()
    ):
        raise LifecycleError(
            f"{device} has storage media with no verified sanitisation record (NIST SP 800-88). "
            f"It cannot {transition.action.replace('_', ' ')} until its data is wiped."
        )
    if transition.needs == "sanitisation":
        if not record:
            raise LifecycleError("Sanitising needs the wipe's record: method, technique, tool and verification.")
        if not record.get("verified"):
            raise LifecycleError(
                "The wipe was not verified. Repeat it, or destroy the media, before recording it.",
                field_errors={"verified": ["The sanitisation must be verified."]},
            )
    if transition.needs == "inspection" and transition.outcome == "pass" and not record.get("grade"):
        raise LifecycleError(
            "A device that passes inspection needs a grade (A, B or C).",
            field_errors={"grade": ["Choose a grade."]},
        )
    if transition.needs == "weight":
        weight = data.get("weight_kg")
        if weight is None or Decimal(str(weight)) <= 0:
            raise LifecycleError(
                f"Recycling {device} needs its weight in kg.",
                field_errors={"weight_kg": ["Enter the weight handed over, in kg."]},
            )
    if transition.needs == "beneficiaries":
        beneficiaries = data.get("beneficiaries")
        if beneficiaries is None or int(beneficiaries) < 0:
            raise LifecycleError(
                "Confirming delivery needs the number of people the device reaches.",
                field_errors={"beneficiaries": ["Enter a number, 0 or more."]},
            )
    if transition.needs == "project" and not data.get("project_id"):
        raise LifecycleError(f"Allocating {device} needs the project it goes to.")


def device_transition(
    *,
    device: Device,
    action: str,
    actor: AbstractBaseUser | None,
    note: str = "",
    record: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    hub: Hub | None = None,
    expected_version: int | None = None,
) -> Device:
    """Move one device along the lifecycle, or raise ``LifecycleError`` saying why not.

    ``device`` is the caller's copy: if the row changed since the caller read it (another person won
    the race), the move is refused as a conflict rather than applied to a state the caller never saw.
    ``record`` holds the sanitisation or inspection fields; ``data`` the figures the move carries
    (``weight_kg``, ``beneficiaries``, ``project_id``...), copied onto the event.
    ``actor`` is None only for system moves (tasks, imports), which skip the hub check.
    """
    record = dict(record or {})
    data = dict(data or {})
    seen_version = device.version if expected_version is None else expected_version
    now = timezone.now()
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if actor is not None and not user_can_act_in_hub(user=actor, hub_id=locked.hub_id):
            raise LifecycleError(f"{locked} is at a hub you do not work at.", code="forbidden")
        if locked.version != seen_version:
            raise LifecycleError(
                f"{locked} was just changed by someone else (it is now {_state_label(locked.state)}). "
                "Reload it and try again.",
                code="conflict",
            )
        target_hub_id = locked.hub_id
        if hub is not None and hub.pk != locked.hub_id:
            if action != "receive":
                raise LifecycleError("A device changes hub only when it is received.")
            if actor is not None and not user_can_act_in_hub(user=actor, hub_id=hub.pk):
                raise LifecycleError(
                    f"You cannot receive {locked} into {hub.code}: you do not work at that hub.",
                    code="forbidden",
                )
            target_hub_id = hub.pk

        outcome = ""
        if action == "inspect":
            outcome = "pass" if record.get("passed") else "fail"
        transition = _pick_transition(device=locked, action=action, outcome=outcome)
        _check_guards(device=locked, transition=transition, record=record, data=data)
        if transition.needs in ("sanitisation", "inspection") and actor is None:
            raise LifecycleError(f"{transition.label} must be recorded by the person who did it.")

        updates: dict[str, Any] = {
            "state": transition.target,
            "version": locked.version + 1,
            "hub_id": target_hub_id,
            "updated_at": now,
        }
        if transition.needs == "sanitisation":
            sanitisation = SanitisationRecord.objects.create(
                device=locked, operator=actor, completed_at=record.pop("completed_at", None) or now, **record
            )
            data["sanitisation_record_id"] = sanitisation.pk
            data["method"] = sanitisation.method
        elif transition.needs == "inspection":
            inspection = InspectionRecord.objects.create(
                device=locked,
                inspector=actor,
                passed=bool(record.get("passed")),
                grade=record.get("grade", "") if record.get("passed") else "",
                notes=record.get("notes", ""),
                inspected_at=now,
            )
            data["inspection_record_id"] = inspection.pk
            updates["grade"] = inspection.grade
            if inspection.grade:
                data["grade"] = inspection.grade
        elif transition.needs == "weight":
            weight = Decimal(str(data["weight_kg"]))
            data["weight_kg"] = str(weight)
            updates["weight_kg"] = weight
        elif transition.needs == "beneficiaries":
            data["beneficiaries"] = int(data["beneficiaries"])

        changed = Device.objects.filter(pk=locked.pk, version=locked.version)._update_state(**updates)
        if changed != 1:  # only reachable where the database has no row locks
            raise LifecycleError(
                f"{locked} was just changed by someone else. Reload it and try again.", code="conflict"
            )
        event = DeviceEvent.objects.create(
            device=locked,
            action=action,
            from_state=locked.state,
            to_state=transition.target,
            actor=actor,
            hub_id=target_hub_id,
            occurred_at=now,
            note=note,
            data=data,
        )
        _announce(event)
    device.refresh_from_db()
    return device


def device_events_mark_counted(*, event_ids: Iterable[int]) -> int:
    """Mark events as folded into the impact counters. Called inside the fold's transaction."""
    return DeviceEvent.objects.filter(pk__in=list(event_ids), impact_counted=False).update(impact_counted=True)
