"""Reads for a hub's dashboard: work in progress, devices stuck, weekly throughput, the sanitisation backlog.

Each figure comes from an index (devices by hub and state, and by hub, state and last change) or from the
weekly read model written with every move (``HubWeeklyThroughput``), never from a scan of the events, so the
page costs the same at ten thousand devices as at millions.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from .models import Device, DeviceState, HubWeeklyThroughput
from .services import week_of

S = DeviceState
# States a device waits in at the hub while people work on it (not yet gone, not lost).
WORK_IN_PROGRESS = (S.RECEIVED, S.SANITISED, S.INSPECTED, S.CONFIGURED, S.ALLOCATED, S.TO_RECYCLE)
STUCK_LISTED = 20


def stuck_after_days() -> int:
    return int(getattr(settings, "HUB_DASHBOARD_STUCK_DAYS", 14))


def throughput_weeks() -> int:
    return int(getattr(settings, "HUB_DASHBOARD_WEEKS", 26))


@dataclass(frozen=True)
class Throughput:
    weeks: list[date]
    by_action: dict[str, list[int]]  # action -> one count per week, oldest first


def hub_work_in_progress(*, hub_id: int) -> dict[str, int]:
    """Devices at the hub per state still in work, every such state listed (0 where none)."""
    counts = dict(
        Device.objects.filter(hub_id=hub_id, state__in=WORK_IN_PROGRESS)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {state: counts.get(state, 0) for state in WORK_IN_PROGRESS}


def hub_stuck_devices(*, hub_id: int, days: int | None = None) -> dict[str, Any]:
    """Devices in work with no move or edit for more than ``days``: how many per state, and the oldest."""
    days = stuck_after_days() if days is None else days
    before = timezone.now() - timedelta(days=days)
    stuck = Device.objects.filter(hub_id=hub_id, state__in=WORK_IN_PROGRESS, updated_at__lt=before)
    counts = dict(stuck.values_list("state").annotate(n=Count("id")).order_by())
    oldest = list(stuck.order_by("updated_at", "id")[:STUCK_LISTED])
    return {"days": days, "by_state": {s: counts.get(s, 0) for s in WORK_IN_PROGRESS}, "oldest": oldest}


def hub_sanitisation_backlog(*, hub_id: int) -> int:
    """Received devices with storage media still waiting for their wipe."""
    return Device.objects.filter(hub_id=hub_id, state=S.RECEIVED, has_storage_media=True).count()


def hub_weekly_throughput(*, hub_id: int, weeks: int | None = None) -> Throughput:
    """Moves per action per week, over the last ``weeks`` weeks up to this one (from the read model)."""
    weeks = throughput_weeks() if weeks is None else weeks
    this_week = week_of(timezone.now())
    all_weeks = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = HubWeeklyThroughput.objects.filter(hub_id=hub_id, week__gte=all_weeks[0]).values_list(
        "week", "action", "count"
    )
    index = {week: i for i, week in enumerate(all_weeks)}
    by_action: dict[str, list[int]] = {}
    for week, action, count in rows:
        if week in index:
            by_action.setdefault(action, [0] * weeks)[index[week]] += count
    return Throughput(weeks=all_weeks, by_action=by_action)
