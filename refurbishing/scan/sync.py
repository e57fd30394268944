"""The offline scan station's two conversations with the server: its device cache, and its queue of moves.

A station keeps, in IndexedDB, the devices of the person's hubs that can still be moved at a station
(``device_cache_page``, refreshed by a cursor), and queues the moves made while offline, each with a UUID made
on the device, the moment it happened and who made it. ``sync_moves_apply`` replays a batch in order, each
move in its own transaction through ``device_perform_action`` (the lifecycle service and its guards, as the
admin, the API and the bulk jobs use), or a transfer check-in through ``transfer_check_in_scan`` (as the check-in
page), and answers each: applied, duplicate, refused or conflict. ``transfer_cache`` is what a station keeps to
check transfers in offline.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.selectors import (
    hub_ids_for_user,
    hub_ids_managed_by,
    hub_steps_remembered,
    restrict_to_user_hubs,
    user_can_act_in_hub,
    user_may_reach,
)
from refurbishing.actions import device_perform_action
from refurbishing.errors import LifecycleError
from refurbishing.lifecycle import ACTION_LABELS, source_states, transitions_for
from refurbishing.models import Device, DeviceEvent, SyncedMove, Transfer, TransferDevice
from refurbishing.models.sync import TO_REVIEW
from refurbishing.services import announcements_batched, moves_occurred
from refurbishing.transfers.services import (
    transfer_check_in_scan,
    transfer_item_for_scan,
    transfer_list_arriving,
    transfers_for_check_in,
)

# The moves a technician makes at the scan station, and so may queue offline.
OFFLINE_ACTIONS: tuple[str, ...] = ("receive", "sanitise", "inspect", "configure", "mark_missing")
# Checking in a device that arrived from another hub (``transfer_check_in_scan``): no move of the lifecycle's, its
# transfer in ``fields["transfer"]``, its code a serial, asset tag or label code of a device the transfer carries.
TRANSFER_CHECK_IN = "check_in"
# What a station may send: the lifecycle's moves above, and transfer check-ins.
SYNC_ACTIONS: tuple[str, ...] = (*OFFLINE_ACTIONS, TRANSFER_CHECK_IN)
# The states a cached device may be in: those some offline move starts from.
CACHED_STATES: tuple[str, ...] = tuple(
    sorted({str(state) for action in OFFLINE_ACTIONS for state in source_states(action)})
)
# At most this many moves in one POST /api/v1/sync/ (the station sends a longer queue in several batches).
SYNC_MAX_MOVES = 100
# Devices per page of the cache download; a hub of 20,000 open devices comes in two pages.
CACHE_PAGE_SIZE = 10_000
# A change younger than this may still belong to a transaction that has not committed: the cursor stops short
# of it, and the next refresh brings it, so no change is ever skipped.
CACHE_SETTLE = timedelta(seconds=2)
CACHE_COLUMNS = ("label_code", "serial", "asset_tag", "category", "model", "state", "version", "hub")
# A device a transfer carries, as the station keeps it: as in the device cache, its place in the transfer for a hub.
TRANSFER_CACHE_COLUMNS = ("label_code", "serial", "asset_tag", "category", "model", "state", "version", "status")


class SyncOutcome:
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class QueuedMove:
    """One move as the station queued it."""

    id: uuid.UUID
    code: str
    action: str
    fields: Mapping[str, Any]
    version: int
    occurred_at: datetime
    actor_id: int


@dataclass
class SyncAnswer:
    id: uuid.UUID
    status: str
    message: str = ""
    device: Device | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- the device cache ---------------------------------------------------------------------------------------------


def device_cache_row(device: Device) -> list[Any]:
    """A device as the station caches it (the order of ``CACHE_COLUMNS``)."""
    model = " ".join(part for part in (device.manufacturer, device.model) if part)
    return [
        device.label_code,
        device.serial_number,
        device.asset_tag,
        device.category,
        model,
        device.state,
        device.version,
        device.hub.code,
    ]


def _cursor_parse(cursor: str) -> tuple[datetime, int]:
    moment, _sep, pk = cursor.rpartition("_")
    parsed = datetime.fromisoformat(moment)
    if timezone.is_naive(parsed) or not pk.isdigit():
        raise ValueError(cursor)
    return parsed, int(pk)


def device_cache_page(*, user: AbstractBaseUser, cursor: str = "") -> dict[str, Any]:
    """The devices of the user's hubs a station can still move, changed since ``cursor`` (all of them without one).

    Devices that left the movable states since the cursor come back as ``gone`` (their label codes), so the
    station drops them. ``ValueError`` for a cursor this function did not make. One query per page.
    """
    settled = timezone.now() - CACHE_SETTLE
    queryset = Device.objects.restrict(user, "act").filter(updated_at__lte=settled)
    if cursor:
        moment, pk = _cursor_parse(cursor)
        queryset = queryset.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
    else:
        queryset = queryset.filter(state__in=CACHED_STATES)
    rows = list(
        queryset.order_by("updated_at", "pk").values_list(
            "pk",
            "updated_at",
            "label_code",
            "serial_number",
            "asset_tag",
            "category",
            "manufacturer",
            "model",
            "state",
            "version",
            "hub__code",
        )[: CACHE_PAGE_SIZE + 1]
    )
    more = len(rows) > CACHE_PAGE_SIZE
    rows = rows[:CACHE_PAGE_SIZE]
    devices, gone = [], []
    for _pk, _updated, label, serial, tag, category, make, model, state, version, hub in rows:
        if state in CACHED_STATES:
            devices.append([label, serial, tag, category, " ".join(p for p in (make, model) if p), state, version, hub])
        else:
            gone.append(label)
    if rows:
        cursor = f"{rows[-1][1].isoformat()}_{rows[-1][0]}"
    elif not cursor:
        cursor = f"{settled.isoformat()}_0"
    return {"columns": list(CACHE_COLUMNS), "devices": devices, "gone": gone, "cursor": cursor, "more": more}


def transfer_cache(*, user: AbstractBaseUser) -> dict[str, Any]:
    """The transfers on their way to the user's hubs, each with the devices it carries (rows of
    ``TRANSFER_CACHE_COLUMNS``), so a station checks them in offline. Two queries, whatever their number.

    Apart from the device cache: a transfer's devices are still at the hub that sent them, and a transfer's list
    never grows after it left, so a refresh that finds nothing changed (the ETag of ``SyncTransfersView``) sends
    nothing back.
    """
    transfers = list(transfer_list_arriving(user=user).order_by("shipped_at", "id"))
    rows: dict[int, list[list[Any]]] = {transfer.pk: [] for transfer in transfers}
    items = (
        TransferDevice.objects.filter(transfer__in=list(rows))
        .order_by("transfer_id", "id")
        .values_list(
            "transfer_id",
            "device__label_code",
            "device__serial_number",
            "device__asset_tag",
            "device__category",
            "device__manufacturer",
            "device__model",
            "device__state",
            "device__version",
            "status",
        )
    )
    for transfer_id, label, serial, tag, category, make, model, state, version, status in items:
        rows[transfer_id].append(
            [label, serial, tag, category, " ".join(p for p in (make, model) if p), state, version, status]
        )
    return {
        "columns": list(TRANSFER_CACHE_COLUMNS),
        "transfers": [
            {
                "id": transfer.pk,
                "reference": transfer.reference,
                "from_hub": transfer.from_hub.code,
                "to_hub": transfer.to_hub.code,
                "devices": rows[transfer.pk],
            }
            for transfer in transfers
        ],
    }


# --- the queue of moves ---------------------------------------------------------------------------------------------


def _not_found() -> LifecycleError:
    # The same sentence whether the device does not exist or is at someone else's hub: nothing is revealed.
    return LifecycleError(_("No device with this label at your hubs."), code="not_found")


def _transfer_not_found() -> LifecycleError:
    # As the check-in page answers, whether the transfer does not exist or arrives at someone else's hub.
    return LifecycleError(_("No transfer with this id arrives at your hubs."), code="not_found")


def _bounded(moment: datetime, *, last: datetime | None, now: datetime) -> datetime:
    """When the move happened, as the station said, kept between the device's previous event and now."""
    if last is not None and moment < last:
        moment = last
    return min(moment, now)


def sync_moves_apply(*, actor: AbstractBaseUser, moves: Sequence[QueuedMove]) -> list[SyncAnswer]:
    """Apply the station's queued moves in order, each in its own transaction, as ``actor`` (their maker).

    The caller has checked that every move was made by ``actor``. A UUID seen before is a duplicate and changes
    nothing, even when two syncs of one batch run at once (the move and its row commit together, under the device's
    row lock: the second sync waits for the first, then finds the UUID taken). A device the person may no longer
    move, a guard's refusal, or a device changed since the station cached it: refused or conflict, recorded for
    the hub's managers to review. What the batch needs is read once: the devices and their hubs, their last events,
    the UUIDs already seen, each hub's steps, the person's hubs; the committed moves are announced once per donation
    and action when the batch ends.
    """
    ids = [move.id for move in moves]
    seen = set(SyncedMove.objects.filter(uuid__in=ids).values_list("uuid", flat=True))
    check_ins = [move for move in moves if move.action == TRANSFER_CHECK_IN]
    transfers = (
        transfers_for_check_in(user=actor, ids={move.fields["transfer"] for move in check_ins}) if check_ins else {}
    )
    codes = {move.code.strip().upper() for move in moves}
    reachable = Device.objects.select_related("hub", "donation").restrict(actor, "act")
    devices = {device.label_code: device for device in reachable.filter(label_code__in=codes)}
    hubs = {device.hub_id: device.hub for device in devices.values()}
    last_moves = dict(
        DeviceEvent.objects.filter(device__in=[d.pk for d in devices.values()])
        .values("device_id")
        .annotate(last=Max("occurred_at"))
        .values_list("device_id", "last")
        .order_by()
    )
    answers = []
    with announcements_batched(), hub_steps_remembered():
        for move in moves:
            if move.id in seen:
                answers.append(SyncAnswer(id=move.id, status=SyncOutcome.DUPLICATE, message=_("Already recorded.")))
                continue
            if move.action == TRANSFER_CHECK_IN:
                transfer = transfers.get(move.fields["transfer"])
                answer = _sync_check_in_apply(actor=actor, move=move, transfer=transfer, last_moves=last_moves)
                if answer.device is not None:
                    devices[answer.device.label_code] = answer.device  # arrived: the batch's next moves may move it
            else:
                device = devices.get(move.code.strip().upper())
                answer = _sync_move_apply(actor=actor, move=move, device=device, last_moves=last_moves)
                if device is not None and device.hub_id in hubs:
                    device.hub = hubs[device.hub_id]  # the refreshed row forgot its hub; the answer shows its code
            seen.add(move.id)
            answers.append(answer)
    return answers


def _claim(
    *,
    move: QueuedMove,
    actor: AbstractBaseUser,
    device: Device | None,
    hub_id: int | None,
    now: datetime,
    outcome: str = SyncedMove.Outcome.APPLIED,
    message: str = "",
    event: Any = None,
) -> SyncedMove:
    """The move's row. Its UUID is unique: a second sync of the same move fails here with ``IntegrityError`` (a
    duplicate), after waiting for the first to commit or roll back where the database has row locks."""
    return SyncedMove.objects.create(
        uuid=move.id,
        actor=actor,
        code=move.code[:80],
        device=device,
        hub_id=hub_id,
        action=move.action,
        fields=dict(move.fields),
        cached_version=move.version,
        occurred_at=move.occurred_at,
        recorded_at=now,
        outcome=outcome,
        message=message,
        event_id=event,
    )


def _sync_move_apply(
    *, actor: AbstractBaseUser, move: QueuedMove, device: Device | None, last_moves: dict[int, datetime]
) -> SyncAnswer:
    """The move and its row in one transaction; a refusal rolls the move back and is recorded on its own.

    Two syncs of the same move at once: the device's row lock makes the second wait for the first, which has
    then moved the device (the second finds a newer version: a conflict) or been refused; either way the second
    finds the UUID taken when it records its answer, and answers a duplicate with nothing changed.
    """
    now = timezone.now()
    occurred = _bounded(move.occurred_at, last=last_moves.get(device.pk) if device else None, now=now)
    hub_id = device.hub_id if device else None
    try:
        error = None
        try:
            with transaction.atomic():
                _perform(actor=actor, move=move, device=device, occurred=occurred)
                # The move's event: the device's last, written just now under its row lock.
                last_event = DeviceEvent.objects.filter(device_id=device.pk).order_by("-id").values("id")[:1]
                _claim(move=move, actor=actor, device=device, hub_id=hub_id, now=now, event=Subquery(last_event))
        except LifecycleError as refusal:
            error = refusal
            if device is not None:
                device.refresh_from_db()  # rolled back: as it is, not as the station or the move left the copy
        if error is not None:
            conflict = error.code == "conflict"
            outcome = SyncedMove.Outcome.CONFLICT if conflict else SyncedMove.Outcome.REFUSED
            with transaction.atomic():
                _claim(
                    move=move,
                    actor=actor,
                    device=device,
                    hub_id=hub_id,
                    now=now,
                    outcome=outcome,
                    message=error.message,
                )
            status = SyncOutcome.CONFLICT if conflict else SyncOutcome.REFUSED
            return SyncAnswer(id=move.id, status=status, message=error.message, device=device)
    except IntegrityError:
        # Another sync of the same move committed first (its row holds the UUID): this one changes nothing.
        if device is not None:
            device.refresh_from_db()
        return SyncAnswer(id=move.id, status=SyncOutcome.DUPLICATE, message=_("Already recorded."), device=device)
    last_moves[device.pk] = occurred
    done = _("%(action)s: done. %(device)s is now %(state)s.") % {
        "action": ACTION_LABELS[move.action],
        "device": device,
        "state": device.get_state_display(),
    }
    return SyncAnswer(id=move.id, status=SyncOutcome.APPLIED, message=done, device=device)


def _sync_check_in_apply(
    *, actor: AbstractBaseUser, move: QueuedMove, transfer: Transfer | None, last_moves: dict[int, datetime]
) -> SyncAnswer:
    """A transfer check-in through ``transfer_check_in_scan``, as the check-in page makes it, in its own
    transaction. A device already checked in (by someone else, online) is answered as that page answers it,
    as a duplicate: nothing changes. The answer carries the device only once it is at one of the maker's hubs."""
    now = timezone.now()
    item = transfer_item_for_scan(transfer=transfer, scan=move.code) if transfer is not None else None
    device = item.device if item is not None else None
    if device is not None and device.pk not in last_moves:
        last_moves[device.pk] = device.events.aggregate(last=Max("occurred_at"))["last"]
    occurred = _bounded(move.occurred_at, last=last_moves.get(device.pk) if device else None, now=now)
    result = error = None
    try:
        with transaction.atomic():
            hub_id = transfer.to_hub_id if transfer is not None else None
            synced = _claim(move=move, actor=actor, device=device, hub_id=hub_id, now=now)
            if transfer is None:
                error = _transfer_not_found()
            else:
                try:
                    with transaction.atomic(), moves_occurred(occurred):
                        result = transfer_check_in_scan(transfer=transfer, actor=actor, scan=move.code)
                except LifecycleError as refusal:
                    error = refusal
            if error is not None:
                synced.outcome = SyncedMove.Outcome.REFUSED
                synced.message = error.message
                synced.save(update_fields=["outcome", "message"])
            else:
                synced.message = result.message
                if result.outcome == "received":
                    synced.event_id = result.device.events.order_by("-id").values_list("id", flat=True).first()
                synced.save(update_fields=["message", "event"])
    except IntegrityError:
        # Another sync of the same move committed first (its row holds the UUID): this one changes nothing.
        if device is not None:
            device.refresh_from_db()
        return SyncAnswer(
            id=move.id, status=SyncOutcome.DUPLICATE, message=_("Already recorded."), device=_at_hubs(actor, device)
        )
    if error is not None:
        return SyncAnswer(id=move.id, status=SyncOutcome.REFUSED, message=error.message)
    if result.outcome == "received":
        last_moves[result.device.pk] = occurred
        status = SyncOutcome.APPLIED
    else:
        status = SyncOutcome.DUPLICATE
    return SyncAnswer(id=move.id, status=status, message=result.message, device=_at_hubs(actor, result.device))


def _at_hubs(actor: AbstractBaseUser, device: Device | None) -> Device | None:
    """The device, if it is at one of the actor's hubs (a device still travelling is not the station's yet)."""
    if device is None or not user_can_act_in_hub(user=actor, hub_id=device.hub_id):
        return None
    return device


def _perform(*, actor: AbstractBaseUser, move: QueuedMove, device: Device | None, occurred: datetime) -> None:
    """The move through the lifecycle service, in the caller's transaction; ``LifecycleError`` if refused."""
    if device is None:
        raise _not_found()
    # The version the station cached: a move by anyone else since then is a conflict, under the row lock.
    device.version = move.version
    with moves_occurred(occurred):
        device_perform_action(device=device, action=move.action, actor=actor, fields=dict(move.fields))
    if not user_may_reach(actor, obj=device, field="hub", action="act"):
        raise LifecycleError(_("That move would take the device out of your hubs; it was not made."), code="forbidden")


def transitions_target(action: str, fields: Mapping[str, Any]) -> str:
    """Where the move would take a device (for the station's own guess while offline; the server decides)."""
    for transition in transitions_for(action):
        if transition.when is None or transition.when(fields):
            return str(transition.target)
    return ""


# --- the managers' review list ----------------------------------------------------------------------------------


def synced_move_list_to_review(*, user: AbstractBaseUser, hub_id: int | None = None) -> QuerySet[SyncedMove]:
    """Refused and conflicting offline moves at the hubs the user manages, not yet reviewed, newest first."""
    queryset = SyncedMove.objects.filter(TO_REVIEW)
    if hub_id is not None:
        queryset = queryset.filter(hub_id=hub_id)
    managed = hub_ids_managed_by(user=user)
    if managed is not None:
        queryset = restrict_to_user_hubs(queryset, user=user, action="manage")
    return queryset.select_related("actor", "device", "hub").order_by("-id")


def synced_move_list(*, user: AbstractBaseUser) -> QuerySet[SyncedMove]:
    """The offline moves the user may look at, newest first: every one at the hubs they manage, and the ones they
    made themselves (at hubs they still work at, or naming no device they could reach); all for a superuser."""
    queryset = SyncedMove.objects.select_related("actor", "device", "hub", "reviewed_by").order_by("-id")
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    managed = hub_ids_managed_by(user=user)
    if managed is None:
        return queryset
    own = Q(actor_id=user.pk) & (Q(hub_id__in=hub_ids_for_user(user=user)) | Q(hub__isnull=True))
    return queryset.filter(Q(hub_id__in=managed) | own)


def synced_moves_mark_reviewed(*, user: AbstractBaseUser, ids: Sequence[int]) -> int:
    """Mark the given refusals and conflicts reviewed (those at hubs the user manages); how many."""
    queryset = synced_move_list_to_review(user=user).filter(pk__in=list(ids))
    return SyncedMove.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).update(
        reviewed_at=timezone.now(), reviewed_by=user
    )
