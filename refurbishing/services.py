"""Writes to devices: registration, edits and every lifecycle transition.

The only code that changes ``Device.state``. Each transition locks the row, runs the guards its row in
``refurbishing.lifecycle`` declares, builds the record or figure the row needs, writes the state and a
``DeviceEvent`` in one transaction, and announces the committed move after commit.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import user_can_act_in_hub, user_is_partner_staff

from .errors import LifecycleError
from .lifecycle import (
    COMMON_GUARDS,
    INPUT_GUARDS,
    SAMPLING_ACTIONS,
    TRANSFER_ACTIONS,
    Move,
    Need,
    Transition,
    action_verb,
    recorded_by_a_person,
    source_states,
    transitions_for,
)
from .models import (
    ConfigurationRecord,
    Device,
    DeviceEvent,
    DeviceState,
    HubWeeklyThroughput,
    InspectionRecord,
    SanitisationRecord,
    TransferDevice,
    label_code_new,
    label_codes_new,
)
from .signals import device_transitioned
from .weights import device_weight_fill, weight_measured_values, weight_table, weight_values_fill
from .work_orders.services import PARTNER_DATA_KEYS, work_order_acting_for, work_order_event_data

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
    "storage_kind",
    "year",
    "weight_kg",
)
# Filled by ``weights.weight_values_fill`` on every registration, never typed with the device.
WEIGHT_RESOLVED_FIELDS = ("weee_category", "weight_basis", "weight_source")
EDITABLE_FIELDS = (*REGISTERABLE_FIELDS, "weee_category", "hub")
# An edit of these decides the device's WEEE category and default weight again.
WEIGHT_LOOKUP_FIELDS = frozenset({"category", "manufacturer", "model"})


# --- moves dated in the past: a hub's history loaded from its own records --------------------------------------

_moves_dated: ContextVar[datetime | None] = ContextVar("refurbishing_moves_dated", default=None)


@contextmanager
def moves_dated(moment: datetime | None) -> Iterator[None]:
    """Moves and registrations inside the block happened at ``moment``, not now (None: now, as always).

    For loading history (the demo's two years of work, a hub's records from before the platform): the events
    carry the moment, so the impact counters and the hub's weekly figures count them in their own month. A
    moment is bounded as a recorded move's is: never in the future, and never before the device's last move.
    """
    if moment is not None and moment > timezone.now():
        raise LifecycleError(_("A move cannot be dated in the future."))
    token = _moves_dated.set(moment)
    try:
        yield
    finally:
        _moves_dated.reset(token)


def _moment() -> datetime:
    return _moves_dated.get() or timezone.now()


# A move a scan station queued offline happened then, but the device row changes now: its ``updated_at`` is the
# cursor other stations refresh their caches by, so it must never go back in time.
_row_changed_now: ContextVar[bool] = ContextVar("refurbishing_row_changed_now", default=False)


@contextmanager
def moves_occurred(moment: datetime) -> Iterator[None]:
    """Moves inside the block happened at ``moment`` (their events, records and weekly counts say so) and are
    recorded now: the device's last change, and each event's ``recorded_at``, are the server's time."""
    token = _row_changed_now.set(True)
    try:
        with moves_dated(moment):
            yield
    finally:
        _row_changed_now.reset(token)


# Announcements of committed moves held back and sent once per donation and action when the block ends (see
# ``announcements_batched``); None outside such a block.
_held_announcements: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "refurbishing_held_announcements", default=None
)


@contextmanager
def announcements_batched() -> Iterator[None]:
    """Moves committed inside the block, each in its own transaction, are announced when the block ends: once per
    donation and action (the last event of each), not once per move.

    The listeners need no more: the impact fold counts every uncounted event, and the donor-side tasks bring a
    whole donation up to date. A move rolled back is never announced (its announcement waits for its commit).
    """
    if _held_announcements.get() is not None:
        yield
        return
    held: list[dict[str, Any]] = []
    token = _held_announcements.set(held)
    try:
        yield
    finally:
        _held_announcements.reset(token)
        latest = {(payload["donation_id"], payload["action"]): payload for payload in held}
        for payload in latest.values():
            device_transitioned.send(sender=Device, **payload)


def _state_label(state: str) -> str:
    return str(S(state).label) if state in S.values else state


def _announce(event: DeviceEvent) -> None:
    payload = {
        "event_id": event.pk,
        "device_id": event.device_id,
        "donation_id": event.device.donation_id,
        "action": event.action,
        "to_state": event.to_state,
        "hub_id": event.hub_id,
    }
    held = _held_announcements.get()
    if held is not None:
        transaction.on_commit(lambda: held.append(payload))
        return
    transaction.on_commit(lambda: device_transitioned.send(sender=Device, **payload))


def device_register_many(
    *,
    donation: Any,
    hub: Hub,
    actor: AbstractBaseUser | None,
    rows: Iterable[Mapping[str, Any]],
) -> list[Device]:
    """Register pledged devices for a donation, each with its first chain-of-custody event.

    Rows are already validated by the caller (the donor portal's pledge form); the database still holds the
    serial-number uniqueness, so a duplicate rolls the whole batch back.
    """
    now = _moment()
    rows = list(rows)
    label_codes = label_codes_unused(count=len(rows))
    table = weight_table()
    new_devices = []
    for row, label_code in zip(rows, label_codes, strict=True):
        described = {k: v for k, v in row.items() if k in REGISTERABLE_FIELDS}
        device = Device(donation=donation, hub=hub, label_code=label_code, **described)
        device_weight_fill(device=device, table=table)
        new_devices.append(device)
    with transaction.atomic():
        devices = Device.objects.bulk_create(new_devices)
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


def label_codes_unused(*, count: int) -> list[str]:
    """``count`` distinct label codes no device has yet (checked in one query per round, rarely more than one)."""
    codes: set[str] = set()
    while len(codes) < count:
        candidates = set(label_codes_new(count - len(codes))) - codes
        taken = set(Device.objects.filter(label_code__in=candidates).values_list("label_code", flat=True))
        codes |= candidates - taken
    return sorted(codes)


class DevicesAlreadyRegistered(Exception):
    """Some rows of a batch name a device already registered (same serial, same manufacturer in any case)."""

    def __init__(self, row_numbers: list[int]) -> None:
        super().__init__(f"{len(row_numbers)} devices already registered")
        self.row_numbers = row_numbers


def device_register_stream(
    *,
    donation: Any,
    hub: Hub,
    actor: AbstractBaseUser | None,
    rows: Iterable[Mapping[str, Any]],
) -> int:
    """Register a large batch of pledged devices, each with its ``pledge`` event; returns how many.

    For spreadsheet imports of tens of thousands of rows: the rows are consumed as they come (the caller may
    stream them from a file), inside one transaction, so a failure anywhere leaves nothing written. Rows are
    already validated; each may carry its ``row_number`` in the caller's file. A row whose serial number is
    already registered (same manufacturer, whatever its case) refuses the whole batch with
    ``DevicesAlreadyRegistered`` naming every such row.

    On PostgreSQL the rows stream through one COPY into a temporary table while the caller is still reading its
    file (the database works while Python parses), then the devices and their events are inserted from it in
    two statements. Elsewhere they are written with ``bulk_create`` in chunks.

    Unlike ``device_register_many`` it announces one committed move for the whole batch (the last event)
    rather than one per device: listeners only need to know that events are waiting. The impact fold then
    counts every uncounted event, the whole batch included, as it does for any backlog.
    """
    now = _moment()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            count, last = _register_through_staging(donation=donation, hub=hub, actor=actor, rows=rows, now=now)
        else:
            count, last = _register_in_chunks(donation=donation, hub=hub, actor=actor, rows=rows, now=now)
        if last is not None:
            event_id, device_id = last
            payload = {
                "event_id": event_id,
                "device_id": device_id,
                "donation_id": donation.pk,
                "action": "pledge",
                "to_state": S.PLEDGED,
                "hub_id": hub.pk,
            }
            transaction.on_commit(lambda: device_transitioned.send(sender=Device, **payload))
    return count


REGISTER_CHUNK_SIZE = 5000


def _device_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A validated row as the device's column values, its WEEE category and weight resolved (in memory)."""
    values = {name: row.get(name) for name in REGISTERABLE_FIELDS}
    for name in ("model", "serial_number", "asset_tag", "cpu", "storage_kind"):
        values[name] = values[name] or ""
    values["has_storage_media"] = bool(values["has_storage_media"])
    values["weight_basis"] = values["weight_source"] = ""
    values["weee_category"] = None
    weight_values_fill(values)
    return values


def _register_in_chunks(
    *, donation: Any, hub: Hub, actor: AbstractBaseUser | None, rows: Iterable[Mapping[str, Any]], now: datetime
) -> tuple[int, tuple[int, int] | None]:
    count, last, conflicts = 0, None, []
    chunk: list[Mapping[str, Any]] = []

    def flush() -> None:
        nonlocal count, last
        serials = [row["serial_number"] for row in chunk if row.get("serial_number")]
        registered = {
            (manufacturer.casefold(), serial)
            for manufacturer, serial in Device.objects.filter(serial_number__in=serials).values_list(
                "manufacturer", "serial_number"
            )
        }
        for row in chunk:
            if (str(row.get("manufacturer", "")).casefold(), row.get("serial_number")) in registered:
                conflicts.append(row.get("row_number", 0))
        if not conflicts:
            last = _bulk_create_chunk(donation=donation, hub=hub, actor=actor, rows=chunk, now=now)
            count += len(chunk)
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= REGISTER_CHUNK_SIZE:
            flush()
    if chunk:
        flush()
    if conflicts:
        raise DevicesAlreadyRegistered(conflicts)
    return count, last


def _staging_label_codes_redraw(*, cursor, device_table: str, codes: set[str]) -> None:
    """Give a new label code to the staged rows whose code an existing device already has (rare: 23^8 codes)."""
    while True:
        cursor.execute(
            f'SELECT s.ctid::text FROM {STAGING_TABLE} s JOIN "{device_table}" d ON d.label_code = s.label_code'
        )
        clashes = [row[0] for row in cursor.fetchall()]
        if not clashes:
            return
        for ctid in clashes:
            code = label_code_new()
            while code in codes:
                code = label_code_new()
            codes.add(code)
            cursor.execute(f"UPDATE {STAGING_TABLE} SET label_code = %s WHERE ctid = %s::tid", [code, ctid])


def _bulk_create_chunk(
    *, donation: Any, hub: Hub, actor: AbstractBaseUser | None, rows: list[Mapping[str, Any]], now: datetime
) -> tuple[int, int]:
    label_codes = label_codes_unused(count=len(rows))
    devices = Device.objects.bulk_create(
        [
            Device(donation=donation, hub=hub, created_at=now, updated_at=now, label_code=code, **_device_values(row))
            for row, code in zip(rows, label_codes, strict=True)
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
    return events[-1].pk, devices[-1].pk


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_COPY_ESCAPES)
    return text


STAGING_TABLE = "refurbishing_device_import"


def _copy_staging_chunk(copy: Any, lines: list[str]) -> None:
    copy.write("".join(lines))


def _register_through_staging(
    *, donation: Any, hub: Hub, actor: AbstractBaseUser | None, rows: Iterable[Mapping[str, Any]], now: datetime
) -> tuple[int, tuple[int, int] | None]:
    """PostgreSQL: COPY the rows into a temporary table as they come, then insert devices and events from it."""
    device_table = Device._meta.db_table
    event_table = DeviceEvent._meta.db_table
    columns = (*REGISTERABLE_FIELDS, *WEIGHT_RESOLVED_FIELDS)
    fields = ", ".join(columns)
    with connection.cursor() as cursor:
        # Dropped at commit or rollback; no index or constraint to slow the stream in.
        # Same column types as the device table, and no constraint or index to slow the stream in; dropped at
        # commit or rollback.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING_TABLE} ON COMMIT DROP AS "
            f'SELECT 0::integer AS row_number, label_code, {fields} FROM "{device_table}" WITH NO DATA'
        )
        staging_columns = f"row_number, label_code, {fields}"
        codes: set[str] = set()  # distinct within the file; clashes with existing devices are redrawn below
        # Drawn a chunk at a time: one read of the system's randomness per REGISTER_CHUNK_SIZE devices.
        fresh = iter(label_codes_new(REGISTER_CHUNK_SIZE))

        with cursor.cursor.copy(f"COPY {STAGING_TABLE} ({staging_columns}) FROM STDIN") as copy:
            lines: list[str] = []
            for row in rows:
                values = _device_values(row)
                code = next(fresh, None)
                while code is None or code in codes:
                    code = next(fresh, None)
                    if code is None:
                        fresh = iter(label_codes_new(REGISTER_CHUNK_SIZE))
                codes.add(code)
                line = [str(row.get("row_number", 0)), code]
                line += [_copy_text(values[name]) for name in columns]
                lines.append("\t".join(line) + "\n")
                if len(lines) >= REGISTER_CHUNK_SIZE:
                    _copy_staging_chunk(copy, lines)
                    lines = []
            if lines:
                _copy_staging_chunk(copy, lines)
        cursor.execute(
            f'SELECT s.row_number FROM {STAGING_TABLE} s JOIN "{device_table}" d '
            "ON d.serial_number = s.serial_number AND lower(d.manufacturer) = lower(s.manufacturer) "
            "WHERE s.serial_number <> '' ORDER BY s.row_number"
        )
        conflicts = [row[0] for row in cursor.fetchall()]
        if conflicts:
            raise DevicesAlreadyRegistered(conflicts)
        _staging_label_codes_redraw(cursor=cursor, device_table=device_table, codes=codes)
        # Devices and their first chain-of-custody event in one statement, in the file's order.
        cursor.execute(
            f"WITH new_devices AS ("
            f'INSERT INTO "{device_table}" (donation_id, hub_id, {fields}, grade, state, version, created_at, '
            f"updated_at, label_code) SELECT %s, %s, {fields}, '', %s, 0, %s, %s, label_code FROM {STAGING_TABLE} "
            "ORDER BY row_number "
            "RETURNING id), new_events AS ("
            f'INSERT INTO "{event_table}" (device_id, action, from_state, to_state, actor_id, hub_id, occurred_at, '
            "recorded_at, note, data, impact_counted) "
            "SELECT id, 'pledge', '', %s, %s, %s, %s, %s, '', %s::jsonb, false FROM new_devices ORDER BY id "
            "RETURNING id, device_id) "
            "SELECT count(*), max(id), max(device_id) FROM new_events",
            [
                donation.pk,
                hub.pk,
                S.PLEDGED.value,
                now,
                now,
                S.PLEDGED.value,
                actor.pk if actor is not None else None,
                hub.pk,
                now,
                now,
                json.dumps({"donation_id": donation.pk}),
            ],
        )
        count, last_event_id, last_device_id = cursor.fetchone()
        if not count:
            return 0, None
        return count, (last_event_id, last_device_id)


def _refuse_outside_scope(*, device: Device, actor: AbstractBaseUser | None) -> None:
    """The actor works at the device's hub, or reaches it as a partner's user (an open work order holds it)."""
    if actor is None or user_can_act_in_hub(user=actor, hub_id=device.hub_id):
        return
    if user_is_partner_staff(user=actor):
        if Device.objects.filter(pk=device.pk).restrict(actor, "act").exists():
            return
        raise LifecycleError(
            _("%(device)s is not in an open work order of your organisation.") % {"device": device}, code="forbidden"
        )
    raise LifecycleError(_("%(device)s is at a hub you do not work at.") % {"device": device}, code="forbidden")


def device_update(*, device: Device, actor: AbstractBaseUser, fields: Mapping[str, Any]) -> Device:
    """Edit a device's description or move it to another hub the actor works at.

    A partner's user may correct the description of a device their open work order holds (what the bench found
    while configuring it), never its hub.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise LifecycleError(
            _("These fields cannot be edited here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        _refuse_outside_scope(device=locked, actor=actor)
        new_hub = fields.get("hub")
        if new_hub is not None and new_hub.pk != locked.hub_id:
            if not user_can_act_in_hub(user=actor, hub_id=new_hub.pk):
                raise LifecycleError(
                    _("You cannot move %(device)s to %(hub)s: you do not work at that hub.")
                    % {"device": locked, "hub": new_hub.code},
                    code="forbidden",
                )
            if TransferDevice.objects.filter(device=locked, status=TransferDevice.Status.IN_TRANSIT).exists():
                raise LifecycleError(
                    _("%(device)s is on its way to another hub: it changes hub when checked in there.")
                    % {"device": locked}
                )
            if locked.state not in (S.PLEDGED, S.RECEIVED, S.SANITISED, S.INSPECTED, S.CONFIGURED):
                raise LifecycleError(
                    _("%(device)s is %(state)s; only devices still in a hub's care can change hub.")
                    % {"device": locked, "state": _state_label(locked.state)}
                )
        changed = {name for name, value in fields.items() if getattr(locked, name) != value}
        for name, value in fields.items():
            setattr(locked, name, value)
        if "weight_kg" in changed:
            # A weight a person types is theirs to answer for: declared (empty: the defaults apply again).
            locked.weight_basis, locked.weight_source = "", ""
        weight_fields = device_weight_fill(
            device=locked,
            weee_category=fields.get("weee_category"),
            recategorise=bool(changed & WEIGHT_LOOKUP_FIELDS),
        )
        locked.full_clean(exclude=["donation"])
        saved = {*fields.keys(), *weight_fields, "weight_basis", "weight_source", "updated_at"}
        locked.save(update_fields=sorted(saved))
    return locked


def _pick_transition(*, device: Device, action: str, record: Mapping[str, Any]) -> Transition:
    candidates = transitions_for(action)
    if not candidates:
        raise LifecycleError(_("'%(action)s' is not a device action.") % {"action": action})
    if device.state not in source_states(action):
        allowed = _(" or ").join(_state_label(s) for s in sorted(source_states(action)))
        raise LifecycleError(
            _("Cannot %(action)s %(device)s: it is %(state)s, and only a device that is %(allowed)s can be.")
            % {
                "action": action_verb(action),
                "device": device,
                "state": _state_label(device.state),
                "allowed": allowed,
            }
        )
    for candidate in candidates:
        if device.state in candidate.sources and (candidate.when is None or candidate.when(record)):
            return candidate
    raise LifecycleError(
        _("'%(action)s' needs an outcome (%(outcomes)s).")
        % {"action": action, "outcomes": ", ".join(c.outcome for c in candidates)}
    )


def sanitisation_record_create(
    *,
    device: Device,
    operator: AbstractBaseUser,
    method: str,
    technique: str,
    tool: str,
    verification: str,
    verified: bool,
    tool_version: str = "",
    completed_at: datetime | None = None,
) -> SanitisationRecord:
    """Record how a device's storage media was wiped (NIST SP 800-88), by the operator who did it.

    ``device_transition`` calls it for a ``sanitise`` move once the guards have passed; the database refuses
    an unverified record whoever calls it.
    """
    return SanitisationRecord.objects.create(
        device=device,
        operator=operator,
        method=method,
        technique=technique,
        tool=tool,
        tool_version=tool_version,
        verification=verification,
        verified=verified,
        completed_at=completed_at or timezone.now(),
    )


def inspection_record_create(
    *,
    device: Device,
    inspector: AbstractBaseUser,
    passed: bool,
    grade: str = "",
    notes: str = "",
    inspected_at: datetime | None = None,
) -> InspectionRecord:
    """Record a functional test: passed with its grade, or failed (a failed device keeps no grade).

    ``device_transition`` calls it for an ``inspect`` move once the guards have passed; the database refuses
    a pass without a grade whoever calls it.
    """
    return InspectionRecord.objects.create(
        device=device,
        inspector=inspector,
        passed=passed,
        grade=grade if passed else "",
        notes=notes,
        inspected_at=inspected_at or timezone.now(),
    )


def configuration_record_create(
    *,
    device: Device,
    configured_by: AbstractBaseUser,
    operating_system: str,
    os_version: str = "",
    keyboard_layout: str = "",
    language: str = "",
    licence: str = ConfigurationRecord.Licence.NONE,
    notes: str = "",
    configured_at: datetime | None = None,
) -> ConfigurationRecord:
    """Record what was installed on a device: system or image and version, keyboard, language and licence.

    ``device_transition`` calls it for a ``configure`` move once the guards have passed.
    """
    return ConfigurationRecord.objects.create(
        device=device,
        configured_by=configured_by,
        operating_system=operating_system.strip(),
        os_version=os_version,
        keyboard_layout=keyboard_layout,
        language=language,
        licence=licence or ConfigurationRecord.Licence.NONE,
        notes=notes,
        configured_at=configured_at or timezone.now(),
    )


# What each need adds to a move once its guards have passed. A builder writes the figures the event carries into
# ``data`` and returns the device fields the move changes besides its state.
NeedBuilder = Callable[..., dict[str, Any]]


def _build_sanitisation(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    fields = dict(move.record)
    fields["completed_at"] = fields.get("completed_at") or now
    sanitisation = sanitisation_record_create(device=move.device, operator=move.actor, **fields)
    data["sanitisation_record_id"] = sanitisation.pk
    data["method"] = sanitisation.method
    return {}


def _build_inspection(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    inspection = inspection_record_create(
        device=move.device,
        inspector=move.actor,
        passed=bool(move.record.get("passed")),
        grade=move.record.get("grade") or "",
        notes=move.record.get("notes") or "",
        inspected_at=now,
    )
    data["inspection_record_id"] = inspection.pk
    updates: dict[str, Any] = {"grade": inspection.grade}
    if inspection.grade:
        data["grade"] = inspection.grade
    if move.record.get("weight_kg") not in (None, ""):
        # Weighed on the bench's scale while inspecting: the weight every report uses from now on.
        updates |= weight_measured_values(move.record["weight_kg"])
        data["weight_kg"] = str(updates["weight_kg"])
        data["weight_basis"] = updates["weight_basis"]
    return updates


CONFIGURATION_FIELDS = ("operating_system", "os_version", "keyboard_layout", "language", "licence", "notes")


def _build_configuration(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    fields = {name: move.record.get(name) or "" for name in CONFIGURATION_FIELDS}
    configuration = configuration_record_create(
        device=move.device, configured_by=move.actor, configured_at=now, **fields
    )
    data["configuration_record_id"] = configuration.pk
    data["operating_system"] = str(configuration)
    return {}


def _build_weight(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    weight = Decimal(str(data["weight_kg"]))
    data["weight_kg"] = str(weight)
    if move.device.weight_kg is not None and weight == move.device.weight_kg:
        return {"weight_kg": weight}  # the device's own weight, taken as the form offers it: its basis stands
    # A weight other than the record's was weighed at the hand-over: the device alone, or its share of what the
    # partner weighed for the batch.
    batch = data.get("recycling_batch")
    return weight_measured_values(weight, source=f"share of the weighed total of batch {batch}" if batch else "")


def _build_beneficiaries(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    data["beneficiaries"] = int(data["beneficiaries"])
    return {}


def _build_nothing(*, move: Move, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {}


NEED_BUILDERS: dict[Need, NeedBuilder] = {
    Need.SANITISATION: _build_sanitisation,
    Need.INSPECTION: _build_inspection,
    Need.WEIGHT: _build_weight,
    Need.BENEFICIARIES: _build_beneficiaries,
    Need.CONFIGURATION: _build_configuration,
    Need.PROJECT: _build_nothing,  # the project's id and kind travel in ``data`` as given
}


def _lock(*, device: Device, actor: AbstractBaseUser | None, seen_version: int) -> Device:
    """The device's row, locked until the transaction ends, as long as nobody changed it since it was read."""
    locked = Device.objects.select_for_update().get(pk=device.pk)
    _refuse_outside_scope(device=locked, actor=actor)
    if locked.version != seen_version:
        raise LifecycleError(
            _("%(device)s was just changed by someone else (it is now %(state)s). Reload it and try again.")
            % {"device": locked, "state": _state_label(locked.state)},
            code="conflict",
        )
    return locked


def _target_hub_id(*, device: Device, action: str, actor: AbstractBaseUser | None, hub: Hub | None) -> int:
    if hub is None or hub.pk == device.hub_id:
        return device.hub_id
    if not any(t.may_change_hub for t in transitions_for(action)):
        raise LifecycleError(_("A device changes hub only when it is received."))
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=hub.pk):
        raise LifecycleError(
            _("You cannot receive %(device)s into %(hub)s: you do not work at that hub.")
            % {"device": device, "hub": hub.code},
            code="forbidden",
        )
    return hub.pk


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

    Lock the row, pick the declared transition and run its guards, apply it (the record or figure its need
    asks for, then the state), and append one ``DeviceEvent``, all in one transaction.

    ``device`` is the caller's copy: if the row changed since the caller read it (another person won
    the race), the move is refused as a conflict rather than applied to a state the caller never saw.
    ``record`` holds the sanitisation or inspection fields; ``data`` the figures the move carries
    (``weight_kg``, ``beneficiaries``, ``project_id``...), copied onto the event.
    ``actor`` is None only for moves no hub staff makes (a coordinator confirming delivery on the project
    portal, demo data, benchmarks), which skip the hub check and cannot write a record.
    """
    record = dict(record or {})
    data = dict(data or {})
    seen_version = device.version if expected_version is None else expected_version
    now = _moment()
    with transaction.atomic():
        locked = _lock(device=device, actor=actor, seen_version=seen_version)
        if _moves_dated.get() is not None:
            # On the index device_event_occurred_idx (without it, 16 ms a move on PostgreSQL at 100,000 events).
            last = locked.events.aggregate(last=Max("occurred_at"))["last"]
            if last is not None and now < last:
                raise LifecycleError(
                    _("%(device)s cannot be moved at %(moment)s, before its last move (%(last)s).")
                    % {"device": locked, "moment": now.isoformat(), "last": last.isoformat()}
                )
        target_hub_id = _target_hub_id(device=locked, action=action, actor=actor, hub=hub)

        transition = _pick_transition(device=locked, action=action, record=record)
        move = Move(device=locked, transition=transition, actor=actor, record=record, data=data, hub_id=target_hub_id)
        for guard in (*COMMON_GUARDS, *transition.guards):
            guard(move)
        # A move under a partner's work order names the partner on its event (the guard above let it through).
        work_order = work_order_acting_for(device=locked, actor=actor, action=action)
        for key in PARTNER_DATA_KEYS:
            data.pop(key, None)
        if work_order is not None:
            data |= work_order_event_data(work_order)

        updates: dict[str, Any] = {
            "state": transition.target,
            "version": locked.version + 1,
            "hub_id": target_hub_id,
            "updated_at": timezone.now() if _row_changed_now.get() else now,
        }
        if transition.needs is not None:
            updates |= NEED_BUILDERS[transition.needs](move=move, data=data, now=now)
        changed = Device.objects.filter(pk=locked.pk, version=locked.version)._update_state(**updates)
        if changed != 1:  # only reachable where the database has no row locks
            raise LifecycleError(
                _("%(device)s was just changed by someone else. Reload it and try again.") % {"device": locked},
                code="conflict",
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
        for effect in transition.effects:
            effect(move, target_hub_id)
        hub_throughput_count(hub_id=target_hub_id, action=action, at=now)
        _announce(event)
    device.refresh_from_db()
    return device


def week_of(at: datetime) -> date:
    """The Monday of the week ``at`` falls in, in the site's time zone (as TruncWeek counts)."""
    day = timezone.localdate(at)
    return day - timedelta(days=day.weekday())


def hub_throughput_count(*, hub_id: int, action: str, at: datetime) -> None:
    """Count one move in the hub dashboard's weekly read model, in the caller's transaction."""
    row = HubWeeklyThroughput.objects.filter(hub_id=hub_id, week=week_of(at), action=action)
    if row.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            HubWeeklyThroughput.objects.create(hub_id=hub_id, week=week_of(at), action=action, count=1)
    except IntegrityError:  # another move created the week's row first
        row.update(count=F("count") + 1)


def device_events_mark_counted(*, event_ids: Iterable[int]) -> int:
    """Mark events as folded into the impact counters. Called inside the fold's transaction."""
    return DeviceEvent.objects.filter(pk__in=list(event_ids), impact_counted=False).update(impact_counted=True)


# Events that record a fact about a device without moving it. Only these actions may be written this way.
CORRECTION_ACTIONS = ("correct_reach",)


def device_event_correct(
    *,
    device: Device,
    action: str,
    actor: AbstractBaseUser | None,
    note: str,
    data: Mapping[str, Any],
) -> DeviceEvent:
    """Append a correction to a device's chain of custody: the state stays, nothing earlier is changed.

    Used for a delivered device whose confirmed reach was corrected (``correct_reach``): the event carries the
    difference (``beneficiaries_delta``), which the impact counters fold like any event.
    """
    if action not in CORRECTION_ACTIONS:
        raise LifecycleError(_("'%(action)s' is not a correction.") % {"action": action})
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if actor is not None and not user_can_act_in_hub(user=actor, hub_id=locked.hub_id):
            raise LifecycleError(_("%(device)s is at a hub you do not work at.") % {"device": locked}, code="forbidden")
        return _event_append_state_kept(device=locked, action=action, actor=actor, note=note, data=data)


def device_sampling_event_record(
    *,
    device: Device,
    action: str,
    actor: AbstractBaseUser | None,
    note: str,
    data: Mapping[str, Any],
) -> DeviceEvent:
    """Append a wipe-sampling link to a device's chain of custody (``lifecycle.SAMPLING_ACTIONS``), state kept.

    Called by ``refurbishing.hardware.sampling`` inside its transaction; the impact counters skip these.
    """
    if action not in SAMPLING_ACTIONS:
        raise LifecycleError(_("'%(action)s' is not a wipe sampling event.") % {"action": action})
    locked = Device.objects.select_for_update().get(pk=device.pk)
    return _event_append_state_kept(device=locked, action=action, actor=actor, note=note, data=data)


def _event_append_state_kept(
    *, device: Device, action: str, actor: AbstractBaseUser | None, note: str, data: Mapping[str, Any]
) -> DeviceEvent:
    """One event on the locked ``device`` that records a fact without moving it (from and to its state), announced
    like every event. For the corrections and the wipe-sampling links above."""
    event = DeviceEvent.objects.create(
        device=device,
        action=action,
        from_state=device.state,
        to_state=device.state,
        actor=actor,
        hub_id=device.hub_id,
        occurred_at=timezone.now(),
        note=note,
        data=dict(data),
    )
    _announce(event)
    return event


def device_transfer_record(
    *,
    device: Device,
    action: str,
    actor: AbstractBaseUser | None,
    hub: Hub,
    transfer_id: int,
    note: str = "",
) -> Device:
    """Append a transfer link to a device's chain of custody (see ``lifecycle.TRANSFER_ACTIONS``).

    ``transfer_ship`` at the origin ``hub`` keeps the device where it is; ``transfer_receive`` at the destination
    ``hub`` moves the device there; ``transfer_missing`` marks a device that never arrived as missing at its
    origin. The state is otherwise kept, so the work done before the journey stays done. The actor must work at
    ``hub``; ``refurbishing.transfers.services`` checks the rest (who may send, what may travel).
    """
    if action not in TRANSFER_ACTIONS:
        raise LifecycleError(_("'%(action)s' is not a transfer between hubs.") % {"action": action})
    now = _moment()  # a check-in made at a station offline happened then (``moves_occurred``)
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if actor is not None and not user_can_act_in_hub(user=actor, hub_id=hub.pk):
            raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": hub.code}, code="forbidden")
        updates: dict[str, Any] = {
            "version": locked.version + 1,
            "updated_at": timezone.now() if _row_changed_now.get() else now,
        }
        to_state = locked.state
        if action == "transfer_receive":
            updates["hub_id"] = hub.pk
        elif action == "transfer_missing":
            to_state = S.MISSING
            updates["state"] = to_state
        Device.objects.filter(pk=locked.pk)._update_state(**updates)
        event = DeviceEvent.objects.create(
            device=locked,
            action=action,
            from_state=locked.state,
            to_state=to_state,
            actor=actor,
            hub_id=hub.pk,
            occurred_at=now,
            note=note,
            data={"transfer_id": transfer_id},
        )
        _announce(event)
    device.refresh_from_db()
    return device


def device_transition_refusal(
    *,
    device: Device,
    action: str,
    data: Mapping[str, Any] | None = None,
    record: Mapping[str, Any] | None = None,
    device_only: bool = False,
    actor: AbstractBaseUser | None = None,
) -> str | None:
    """Why ``device_transition`` would refuse this move right now (the state, then each guard), or None.

    A read: nothing is locked or written. Callers that act on many devices at once (shipping a shipment) ask
    first, so a refusal names the reason that matters (a missing wipe) before any bookkeeping of theirs.
    ``device_only`` asks only the guards about the device (``lifecycle.INPUT_GUARDS`` aside): whether the move
    is open to it before anyone fills in its form, as the scan station asks for each move it offers. With
    ``actor``, the partner guard asks whether that person's work order lets them take the step.
    """
    record = dict(record or {})
    try:
        transition = _pick_transition(device=device, action=action, record=record)
        move = Move(device=device, transition=transition, actor=actor, record=record, data=dict(data or {}))
        for guard in (*COMMON_GUARDS, *transition.guards):
            if guard is recorded_by_a_person or (device_only and guard in INPUT_GUARDS):
                continue
            guard(move)
    except LifecycleError as error:
        return error.message
    return None
