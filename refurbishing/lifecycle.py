"""The device lifecycle, declared once as data.

Every surface (admin, API, bulk actions, Celery) moves devices through
``refurbishing.services.device_transition``, which reads this table; the diagram in the docs is
generated from it (``python manage.py lifecycle_diagram``).
"""

from dataclasses import dataclass

from .models import DeviceState as S


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[S, ...]
    target: S
    label: str
    # Which record or figure the move needs: "sanitisation", "inspection", "weight", "beneficiaries".
    needs: str = ""
    # For actions with more than one outcome (inspect), which outcome this row is.
    outcome: str = ""
    # Moves that take a device out of the hub's control need its storage media sanitised first.
    needs_sanitised_storage: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("receive", (S.PLEDGED,), S.RECEIVED, "Receive at hub"),
    Transition("mark_missing", (S.PLEDGED,), S.MISSING, "Mark as missing (never arrived)"),
    Transition("sanitise", (S.RECEIVED,), S.SANITISED, "Sanitise storage media", needs="sanitisation"),
    Transition("inspect", (S.RECEIVED, S.SANITISED), S.INSPECTED, "Inspect", needs="inspection", outcome="pass"),
    Transition("inspect", (S.RECEIVED, S.SANITISED), S.TO_RECYCLE, "Inspect", needs="inspection", outcome="fail"),
    Transition("configure", (S.INSPECTED,), S.CONFIGURED, "Configure (OS and software installed)"),
    Transition(
        "allocate",
        (S.CONFIGURED,),
        S.ALLOCATED,
        "Allocate to a project",
        needs="project",
        needs_sanitised_storage=True,
    ),
    Transition("ship", (S.ALLOCATED,), S.SHIPPED, "Ship", needs_sanitised_storage=True),
    Transition("deliver", (S.SHIPPED,), S.DELIVERED, "Confirm delivery", needs="beneficiaries"),
    Transition(
        "recycle",
        (S.TO_RECYCLE,),
        S.RECYCLED,
        "Hand over for e-waste recycling",
        needs="weight",
        needs_sanitised_storage=True,
    ),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))
ACTION_LABELS: dict[str, str] = {t.action: t.label for t in TRANSITIONS}


def transitions_for(action: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.action == action]


def source_states(action: str) -> set[S]:
    return {s for t in transitions_for(action) for s in t.sources}


def actions_from(state: str) -> list[str]:
    """Actions a device in ``state`` may take next, in lifecycle order."""
    return [a for a in ACTIONS if state in source_states(a)]


def mermaid_diagram() -> str:
    """The state graph as a Mermaid diagram (rendered by GitHub and most doc tools)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.PLEDGED.value}"]
    for t in TRANSITIONS:
        label = t.action + (f" ({t.outcome})" if t.outcome else "")
        if t.needs_sanitised_storage:
            label += " [sanitised]"
        for source in t.sources:
            lines.append(f"    {source.value} --> {t.target.value}: {label}")
    for final in (S.DELIVERED, S.RECYCLED, S.MISSING):
        lines.append(f"    {final.value} --> [*]")
    return "\n".join(lines) + "\n"
