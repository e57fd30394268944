"""One line of a device's history, however it is told: the staff timeline (who, and the record behind the
move) and the donor's journey (a sentence and the hub) are both lists of these."""

from dataclasses import dataclass, field
from datetime import datetime

from refurbishing.models import DeviceState


@dataclass
class TimelineEntry:
    """When a move happened, what it was in words, and at which hub; the staff timeline adds who made it, the
    record's details and the technician's note (the donor's journey leaves them out)."""

    when: datetime
    what: str
    where: str
    who: str = ""
    details: list[str] = field(default_factory=list)
    note: str = ""
    # When the server recorded it, where that was later than it happened (a move sent by an offline station).
    recorded: datetime | None = None


def state_label(value: str) -> str:
    """A state's name in the reader's language (a value the lifecycle no longer knows is shown as stored)."""
    return str(DeviceState(value).label) if value in DeviceState.values else value
