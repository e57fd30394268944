"""The device lifecycle, declared once as data: its states, moves, what each move needs and its guards.

Every surface (admin, API, bulk actions, Celery) moves devices through
``refurbishing.services.device_transition``, which reads this table: it picks the row, runs the row's guards
in order, builds what the row's need asks for, and writes the move. Adding a rule is one guard in one row.
The diagram in the docs is generated from the table (``python manage.py lifecycle_diagram``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubs.models import LIFECYCLE_STEPS
from hubs.selectors import hub_steps

from .errors import LifecycleError
from .hardware.lots import device_wipe_counts
from .hardware.services import drives_described, snapshots_link_on_receive, unwiped_drives
from .models import DeviceState as S
from .models import Transfer, TransferDevice
from .recycling.streams import device_data_destruction_certificate

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Device


class Need(StrEnum):
    """What a move carries besides the device: a record it creates, or a figure copied onto its event."""

    SANITISATION = "sanitisation"
    INSPECTION = "inspection"
    WEIGHT = "weight"
    BENEFICIARIES = "beneficiaries"
    PROJECT = "project"
    CONFIGURATION = "configuration"

    @property
    def is_record(self) -> bool:
        """Whether the move creates a record from the ``record`` fields (else it reads a figure from ``data``)."""
        return self in RECORD_NEEDS


RECORD_NEEDS = frozenset({Need.SANITISATION, Need.INSPECTION, Need.CONFIGURATION})
# A figure the person leaves empty is taken from the device's own field of this name (the form says so).
FIGURE_DEFAULT_FROM_DEVICE: dict[Need, str] = {Need.WEIGHT: "weight_kg"}


@dataclass(frozen=True)
class Move:
    """One attempted move, as the guards see it: the locked device, who moves it and what the move carries."""

    device: Device
    transition: Transition
    actor: AbstractBaseUser | None
    record: Mapping[str, Any]
    data: Mapping[str, Any]
    # The hub the move happens at: the device's own, or the one it is received into.
    hub_id: int | None = None


Guard = Callable[[Move], None]
"""A rule a move must pass: returns quietly, or raises ``LifecycleError`` saying what to do."""
Effect = Callable[[Move, int], None]
"""What a move also does once applied, in its transaction: called with the move and the device's new hub id."""


def every_drive_wiped(move: Move) -> bool:
    """Per-drive rule: a device with known drives passes only when each has a verified wipe; refuses naming the
    drives still to wipe. Returns False when no drive is known (the device-level rule then applies)."""
    unwiped = unwiped_drives(device=move.device)
    if unwiped is None:
        return False
    if unwiped:
        raise LifecycleError(
            _(
                "%(device)s cannot %(action)s until every drive has a verified sanitisation record "
                "(NIST SP 800-88). Still to wipe: %(drives)s."
            )
            % {
                "device": move.device,
                "action": action_verb(move.transition.action),
                "drives": drives_described(unwiped),
            }
        )
    return True


def storage_is_sanitised(move: Move) -> None:
    """Data security (NIST SP 800-88): storage media leaves the hub's control only once wiped and verified.

    With known drives, every drive needs its own verified record; without, the device-level record does.
    """
    device = move.device
    if every_drive_wiped(move):
        return
    if device.has_storage_media and not device.sanitisation_records.filter(device_wipe_counts()).exists():
        raise LifecycleError(
            _(
                "%(device)s has storage media with no verified sanitisation record (NIST SP 800-88). "
                "It cannot %(action)s until its data is wiped."
            )
            % {"device": device, "action": action_verb(move.transition.action)}
        )


def storage_sanitised_or_destroyed_by_vendor(move: Move) -> None:
    """Recycling: storage media leaves wiped (``storage_is_sanitised``), or whole, in the recycling batch the move
    closes, to a downstream vendor holding that day a valid certificate for whole data-bearing devices (R2v3 and
    e-Stewards let a qualified downstream vendor destroy the data). A device recycled on its own is wiped first."""
    try:
        storage_is_sanitised(move)
    except LifecycleError:
        certificate = device_data_destruction_certificate(
            device=move.device, batch_reference=move.data.get("recycling_batch"), day=timezone.localdate()
        )
        if certificate is None:
            raise


def not_in_transit(move: Move) -> None:
    """A device on its way to another hub is worked on again once checked in there (one chain of custody)."""
    # A plain query on every move (most devices never travel); the transfer is read only to refuse.
    travelling = TransferDevice.objects.filter(device_id=move.device.pk, status=TransferDevice.Status.IN_TRANSIT)
    transfer_ids = list(travelling.values_list("transfer_id", flat=True)[:1])
    if transfer_ids:
        transfer = Transfer.objects.select_related("to_hub").get(pk=transfer_ids[0])
        raise LifecycleError(
            _("%(device)s is on its way to %(hub)s in transfer %(reference)s: check it in there first.")
            % {"device": move.device, "hub": transfer.to_hub.code, "reference": transfer.reference}
        )


def hub_performs_step(move: Move) -> None:
    """A hub makes only the moves its kind performs (``HubKind.steps``): a partner-run site allocates, ships and
    delivers, and does not wipe; an ITAD business does not send devices to projects."""
    hub_id = move.hub_id or move.device.hub_id
    performs = hub_steps(hub_id=hub_id)
    if performs is not None and move.transition.action not in performs.steps:
        raise LifecycleError(
            _("%(hub)s does not %(action)s devices: hubs of its kind (%(kind)s) do not perform that step.")
            % {"hub": performs.hub, "action": action_verb(move.transition.action), "kind": performs.kind}
        )


def within_partner_work_order(move: Move) -> None:
    """A refurbishment partner's user moves a device only under their partner's open work order for it, through
    the steps it lists, until its due date (``work_orders.services.work_order_acting_for``). Hub staff need none."""
    from .work_orders.services import work_order_acting_for  # it reads the lifecycle's verbs and states

    work_order_acting_for(device=move.device, actor=move.actor, action=move.transition.action)


# Checked before every move's own guards.
COMMON_GUARDS: tuple[Guard, ...] = (within_partner_work_order, not_in_transit, hub_performs_step)


def has_storage_media(move: Move) -> None:
    if not move.device.has_storage_media:
        raise LifecycleError(
            _("%(device)s has no storage media, so there is nothing to wipe: inspect it directly.")
            % {"device": move.device}
        )


def media_wiped_before_inspection(move: Move) -> None:
    device = move.device
    if device.state == S.RECEIVED and device.has_storage_media:
        raise LifecycleError(
            _("%(device)s has storage media that has not been sanitised: record a verified wipe before inspecting it.")
            % {"device": device}
        )


def drives_wiped_before_sanitised(move: Move) -> None:
    """A device with known drives is marked sanitised only once every drive has its verified wipe."""
    every_drive_wiped(move)


def link_waiting_hardware_reports(move: Move, hub_id: int) -> None:
    """Hardware reports uploaded before their device existed at the hub are linked when it is received."""
    snapshots_link_on_receive(device=move.device, hub_id=hub_id)


def verified_wipe(move: Move) -> None:
    if not move.record:
        raise LifecycleError(_("Sanitising needs the wipe's record: method, technique, tool and verification."))
    if not move.record.get("verified"):
        raise LifecycleError(
            _("The wipe was not verified. Repeat it, or destroy the media, before recording it."),
            field_errors={"verified": [_("The sanitisation must be verified.")]},
        )


def has_grade(move: Move) -> None:
    if not move.record.get("grade"):
        raise LifecycleError(
            _("A device that passes inspection needs a grade (A, B or C)."),
            field_errors={"grade": [_("Choose a grade.")]},
        )


def names_what_was_installed(move: Move) -> None:
    if not (move.record.get("operating_system") or "").strip():
        raise LifecycleError(
            _("Configuring %(device)s needs what was installed: the operating system or image.")
            % {"device": move.device},
            field_errors={"operating_system": [_("Enter the operating system or image installed.")]},
        )


def recorded_by_a_person(move: Move) -> None:
    """A record names who did the work (operator, inspector): a system move cannot write one."""
    if move.actor is None:
        raise LifecycleError(_("%(move)s must be recorded by the person who did it.") % {"move": move.transition.label})


def has_weight(move: Move) -> None:
    weight = move.data.get("weight_kg")
    try:
        valid = weight is not None and Decimal(str(weight)) > 0
    except InvalidOperation:
        valid = False
    if not valid:
        raise LifecycleError(
            _("Recycling %(device)s needs its weight in kg.") % {"device": move.device},
            field_errors={"weight_kg": [_("Enter the weight handed over, in kg.")]},
        )


# The largest weight a device row holds (Device.weight_kg: seven digits, two of them decimals).
MEASURED_WEIGHT_MAX = Decimal("99999.99")


def measured_weight_valid(move: Move) -> None:
    """A weight read on the bench's scale with an inspection is optional; when given, it is kilograms above 0."""
    weight = move.record.get("weight_kg")
    if weight in (None, ""):
        return
    try:
        valid = Decimal("0") < Decimal(str(weight)) <= MEASURED_WEIGHT_MAX
    except InvalidOperation:
        valid = False
    if not valid:
        raise LifecycleError(
            _("The weight measured for %(device)s must be in kg, above 0.") % {"device": move.device},
            field_errors={"weight_kg": [_("Enter the weight read on the scale, in kg.")]},
        )


def has_beneficiaries(move: Move) -> None:
    beneficiaries = move.data.get("beneficiaries")
    try:
        valid = beneficiaries is not None and int(beneficiaries) >= 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise LifecycleError(
            _("Confirming delivery needs the number of people the device reaches."),
            field_errors={"beneficiaries": [_("Enter a number, 0 or more.")]},
        )


def has_project(move: Move) -> None:
    if not move.data.get("project_id"):
        raise LifecycleError(_("Allocating %(device)s needs the project it goes to.") % {"device": move.device})


# Guards on what the person enters with the move (its record or details), not on the device: a device whose
# other guards pass may make the move once the form is filled. The scan station offers a move on that basis.
INPUT_GUARDS: frozenset[Guard] = frozenset(
    {
        verified_wipe,
        has_grade,
        names_what_was_installed,
        recorded_by_a_person,
        has_weight,
        measured_weight_valid,
        has_beneficiaries,
        has_project,
    }
)


def inspection_passed(record: Mapping[str, Any]) -> bool:
    return bool(record.get("passed"))


def inspection_failed(record: Mapping[str, Any]) -> bool:
    return not record.get("passed")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[S, ...]
    target: S
    label: str
    # The record or figure the move carries; device_transition builds it after the guards pass.
    needs: Need | None = None
    # Checked in this order, against the locked device; the first to refuse stops the move.
    guards: tuple[Guard, ...] = ()
    # For actions with more than one outcome (inspect): this row's outcome, and when the move's record takes it.
    outcome: str = ""
    when: Callable[[Mapping[str, Any]], bool] | None = field(default=None, compare=False)
    # Whether the move may also take the device into another hub (the person must work at both).
    may_change_hub: bool = False
    # Run after the state and event are written, in the same transaction (see ``Effect``).
    effects: tuple[Effect, ...] = ()

    def __post_init__(self) -> None:
        # A misspelt need would silently build nothing: only the declared ones are accepted.
        if self.needs is not None:
            object.__setattr__(self, "needs", Need(self.needs))
        for guard in self.guards:
            if not callable(guard):
                raise TypeError(f"{self.action}: guard {guard!r} is not callable")
        if self.outcome and self.when is None:
            raise TypeError(f"{self.action} ({self.outcome}): an outcome needs its `when` rule")


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "receive",
        (S.PLEDGED,),
        S.RECEIVED,
        gettext_lazy("Receive at hub"),
        may_change_hub=True,
        effects=(link_waiting_hardware_reports,),
    ),
    Transition("mark_missing", (S.PLEDGED,), S.MISSING, gettext_lazy("Mark as missing (never arrived)")),
    Transition(
        "sanitise",
        (S.RECEIVED,),
        S.SANITISED,
        gettext_lazy("Sanitise storage media"),
        needs=Need.SANITISATION,
        guards=(has_storage_media, drives_wiped_before_sanitised, verified_wipe, recorded_by_a_person),
    ),
    Transition(
        "inspect",
        (S.RECEIVED, S.SANITISED),
        S.INSPECTED,
        gettext_lazy("Inspect"),
        needs=Need.INSPECTION,
        guards=(media_wiped_before_inspection, has_grade, measured_weight_valid, recorded_by_a_person),
        outcome="pass",
        when=inspection_passed,
    ),
    Transition(
        "inspect",
        (S.RECEIVED, S.SANITISED),
        S.TO_RECYCLE,
        gettext_lazy("Inspect"),
        needs=Need.INSPECTION,
        guards=(media_wiped_before_inspection, measured_weight_valid, recorded_by_a_person),
        outcome="fail",
        when=inspection_failed,
    ),
    Transition(
        "configure",
        (S.INSPECTED,),
        S.CONFIGURED,
        gettext_lazy("Configure (OS and software installed)"),
        needs=Need.CONFIGURATION,
        guards=(names_what_was_installed, recorded_by_a_person),
    ),
    Transition(
        "allocate",
        (S.CONFIGURED,),
        S.ALLOCATED,
        gettext_lazy("Allocate to a project"),
        needs=Need.PROJECT,
        guards=(storage_is_sanitised, has_project),
    ),
    Transition("ship", (S.ALLOCATED,), S.SHIPPED, gettext_lazy("Ship"), guards=(storage_is_sanitised,)),
    Transition(
        "deliver",
        (S.SHIPPED,),
        S.DELIVERED,
        gettext_lazy("Confirm delivery"),
        needs=Need.BENEFICIARIES,
        guards=(has_beneficiaries,),
    ),
    Transition(
        "recycle",
        (S.TO_RECYCLE,),
        S.RECYCLED,
        gettext_lazy("Hand over for e-waste recycling"),
        needs=Need.WEIGHT,
        guards=(storage_sanitised_or_destroyed_by_vendor, has_weight),
    ),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))

# Travel between hubs (``refurbishing.transfers.services``): links of the chain of custody that keep the device's state,
# because its work is not redone, only its place changes. The impact counters skip them: a device counts as
# received once, at its first hub. ``transfer_missing`` closes the journey of a device that never arrived.
TRANSFER_ACTIONS: tuple[str, ...] = ("transfer_ship", "transfer_receive", "transfer_missing")
TRANSFER_LABELS = {
    "transfer_ship": gettext_lazy("Sent to another hub"),
    "transfer_receive": gettext_lazy("Received from another hub"),
    "transfer_missing": gettext_lazy("Never arrived from another hub"),
}
# Wipe verification by sampling (``refurbishing.hardware.sampling``): a failed sample sends its lot back to be
# wiped again (``rewipe_required``), and a device wiped as a whole records its new wipe (``rewipe``). The state
# is kept (the data security guard holds the device until its media are wiped again); the counters skip them.
SAMPLING_ACTIONS: tuple[str, ...] = ("rewipe_required", "rewipe")
SAMPLING_LABELS = {
    "rewipe_required": gettext_lazy("Sent back to be wiped again (failed wipe sample)"),
    "rewipe": gettext_lazy("Wiped again after a failed wipe sample"),
}
# What may travel: devices received and waiting for work, or configured and ready to go.
TRANSFERABLE_STATES = (S.RECEIVED, S.CONFIGURED)
ACTION_LABELS: dict[str, str] = {t.action: t.label for t in TRANSITIONS}
# Each action as the verb of a sentence ("Cannot %(action)s ...", "It cannot %(action)s until ..."), so a refusal
# reads whole in every language rather than quoting the action's code.
# The verbs, as the hubs app names the steps a hub kind performs (the same table; hubs sits below and cannot
# import this module, so the lifecycle takes its verbs from there; a test keeps the names equal to ACTIONS).
ACTION_VERBS = LIFECYCLE_STEPS


def action_verb(action: str) -> str:
    return str(ACTION_VERBS.get(action, action.replace("_", " ")))


def transitions_for(action: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.action == action]


def source_states(action: str) -> set[S]:
    return {s for t in transitions_for(action) for s in t.sources}


def needs_of(action: str) -> set[Need]:
    """What the action's moves carry (its rows share one need, whatever the outcome)."""
    return {t.needs for t in transitions_for(action) if t.needs is not None}


def actions_from(state: str) -> list[str]:
    """Actions a device in ``state`` may take next, in lifecycle order."""
    return [a for a in ACTIONS if state in source_states(a)]


def mermaid_diagram() -> str:
    """The state graph as a Mermaid diagram (rendered by GitHub and most doc tools)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.PLEDGED.value}"]
    for t in TRANSITIONS:
        label = t.action + (f" ({t.outcome})" if t.outcome else "")
        if storage_is_sanitised in t.guards:
            label += " [sanitised]"
        elif storage_sanitised_or_destroyed_by_vendor in t.guards:
            label += " [sanitised or destroyed]"
        for source in t.sources:
            lines.append(f"    {source.value} --> {t.target.value}: {label}")
    for final in (S.DELIVERED, S.RECYCLED, S.MISSING):
        lines.append(f"    {final.value} --> [*]")
    return "\n".join(lines) + "\n"
