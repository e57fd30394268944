"""Folding chain-of-custody events into the public counters, and checking them against a recount."""

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from donations.selectors import e_resource_allocations_all_for_recount, e_resource_allocations_uncounted_for_update
from donations.services import e_resource_allocations_mark_counted
from hubs.models import Hub
from refurbishing.lifecycle import SAMPLING_ACTIONS, TRANSFER_ACTIONS
from refurbishing.models import DeviceState
from refurbishing.selectors import device_events_all_for_recount, device_events_uncounted_for_update
from refurbishing.services import device_events_mark_counted

from .models import ImpactCounter, Metric, OpeningBalance
from .selectors import impact_summary_refresh

logger = logging.getLogger(__name__)


class ImpactError(Exception):
    """An impact figure that cannot be recorded, with a message the platform admin can act on."""


CellKey = tuple[str, int, str, str, date]  # metric, hub id, project kind, device category, month

_COUNT_METRIC_BY_STATE = {
    DeviceState.RECEIVED: Metric.DEVICES_RECEIVED,
    DeviceState.SANITISED: Metric.DEVICES_SANITISED,
    DeviceState.CONFIGURED: Metric.DEVICES_REFURBISHED,
    DeviceState.DELIVERED: Metric.DEVICES_DELIVERED,
    DeviceState.RECYCLED: Metric.DEVICES_RECYCLED,
}


def event_deltas(event: Mapping[str, Any]) -> list[tuple[CellKey, Decimal]]:
    """What one event adds to the counters. The single definition the fold and the recount share."""
    to_state = event["to_state"]
    data = event["data"] or {}
    month = event["occurred_at"].date().replace(day=1)
    kind = data.get("project_kind", "") or ""
    hub_id = event["hub_id"]
    category = event["device__category"]
    deltas: list[tuple[CellKey, Decimal]] = []
    if event["action"] in TRANSFER_ACTIONS:
        # A device travelling between hubs was counted at its first hub; arriving at the next is not new work.
        return deltas
    if event["action"] in SAMPLING_ACTIONS:
        # Sent back to be wiped, or wiped again: the device was counted when first sanitised.
        return deltas
    if event["action"] == "correct_reach":
        # A corrected delivery confirmation: only the difference in people, in the month the delivery counted in
        # (so a lower figure never takes a later month's cell below zero). The device did not move again.
        if data.get("month"):
            month = date.fromisoformat(data["month"])
        delta = Decimal(int(data.get("beneficiaries_delta") or 0))
        return [((Metric.BENEFICIARIES_REACHED, hub_id, kind, category, month), delta)] if delta else []
    metric = _COUNT_METRIC_BY_STATE.get(to_state)
    if metric is not None:
        deltas.append(((metric, hub_id, kind, category, month), Decimal(1)))
    if to_state == DeviceState.DELIVERED and data.get("beneficiaries"):
        deltas.append(
            ((Metric.BENEFICIARIES_REACHED, hub_id, kind, category, month), Decimal(int(data["beneficiaries"])))
        )
    if to_state == DeviceState.RECYCLED and data.get("weight_kg"):
        deltas.append(((Metric.EWASTE_RECYCLED_KG, hub_id, kind, category, month), Decimal(str(data["weight_kg"]))))
    return deltas


def _sum_deltas(events: Iterable[Mapping[str, Any]]) -> dict[CellKey, Decimal]:
    totals: dict[CellKey, Decimal] = defaultdict(Decimal)
    for event in events:
        for key, amount in event_deltas(event):
            totals[key] += amount
    return totals


def allocation_delta(allocation: Mapping[str, Any]) -> tuple[CellKey, Decimal]:
    """What one e-Resource allocation adds: its kilograms compensated, at the batch's hub, in the month it was
    allocated. The single definition the fold and the recount share."""
    month = allocation["allocated_at"].date().replace(day=1)
    return (Metric.EWASTE_COMPENSATED_KG, allocation["hub_id"], "", "", month), Decimal(allocation["kg"])


def _sum_allocations(allocations: Iterable[Mapping[str, Any]], totals: dict[CellKey, Decimal]) -> None:
    for allocation in allocations:
        key, amount = allocation_delta(allocation)
        totals[key] += amount


def impact_fold_allocations(*, batch_size: int = 2000) -> int:
    """Fold not-yet-counted e-Resource allocations into the kilograms compensated, marking them counted in the same
    transaction (their own marker, ``EResourceAllocation.impact_counted``): exactly once, like the events."""
    folded = 0
    while True:
        with transaction.atomic():
            allocations = e_resource_allocations_uncounted_for_update(limit=batch_size)
            if not allocations:
                break
            totals: dict[CellKey, Decimal] = defaultdict(Decimal)
            _sum_allocations(allocations, totals)
            _apply_to_cells(totals)
            e_resource_allocations_mark_counted(allocation_ids=[a["id"] for a in allocations])
        folded += len(allocations)
        if len(allocations) < batch_size:
            break
    return folded


def _apply_to_cells(totals: Mapping[CellKey, Decimal]) -> None:
    # Sorted, so two workers touching the same cells lock them in the same order (no deadlock).
    for (metric, hub_id, kind, category, month), amount in sorted(totals.items()):
        if not amount:
            continue
        cell = {"metric": metric, "hub_id": hub_id, "project_kind": kind, "device_category": category, "month": month}
        updated = ImpactCounter.objects.filter(**cell).update(value=F("value") + amount)
        if not updated:
            counter, created = ImpactCounter.objects.get_or_create(**cell, defaults={"value": amount})
            if not created:  # another worker created the cell between our update and insert
                ImpactCounter.objects.filter(pk=counter.pk).update(value=F("value") + amount)


def impact_fold_events(*, batch_size: int = 2000, max_batches: int | None = None) -> int:
    """Fold not-yet-counted events into the counters; returns how many were folded.

    Each batch adds its deltas and marks its events counted in one transaction: a retried or duplicated
    run finds nothing left to count, and a run killed mid-batch rolls back whole, losing nothing.
    """
    folded = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            events = device_events_uncounted_for_update(limit=batch_size)
            if not events:
                break
            _apply_to_cells(_sum_deltas(events))
            device_events_mark_counted(event_ids=[e["id"] for e in events])
        folded += len(events)
        batches += 1
        if len(events) < batch_size:
            break
    folded += impact_fold_allocations(batch_size=batch_size)
    if folded:
        transaction.on_commit(impact_summary_refresh)
    return folded


def impact_recount() -> dict[CellKey, Decimal]:
    """Every cell recomputed from the whole history (counted events and counted e-Resource allocations only)."""
    totals = _sum_deltas(device_events_all_for_recount())
    _sum_allocations(e_resource_allocations_all_for_recount(), totals)
    return totals


def impact_reconcile(*, repair: bool = True) -> list[dict[str, Any]]:
    """Compare the counters with a recount from the events; report every cell that drifted, and fix it.

    Events not yet folded are folded first, so only real drift is reported.
    """
    impact_fold_events()
    drift: list[dict[str, Any]] = []
    with transaction.atomic():
        expected = impact_recount()
        actual = {
            (c.metric, c.hub_id, c.project_kind, c.device_category, c.month): c
            for c in ImpactCounter.objects.select_for_update().order_by("id")
        }
        for key in sorted(set(expected) | set(actual)):
            want = expected.get(key, Decimal(0))
            cell = actual.get(key)
            have = cell.value if cell is not None else Decimal(0)
            if want == have:
                continue
            metric, hub_id, kind, category, month = key
            drift.append(
                {
                    "metric": metric,
                    "hub_id": hub_id,
                    "project_kind": kind,
                    "device_category": category,
                    "month": month.isoformat(),
                    "counted": have,
                    "expected": want,
                }
            )
            if not repair:
                continue
            if cell is None:
                ImpactCounter.objects.create(
                    metric=metric, hub_id=hub_id, project_kind=kind, device_category=category, month=month, value=want
                )
            else:
                cell.value = want
                cell.save(update_fields=["value"])
    hub_codes = dict(Hub.objects.values_list("id", "code"))
    for item in drift:
        item["hub"] = hub_codes.get(item["hub_id"], str(item["hub_id"]))
        logger.warning("impact drift %s", item)
    if drift and repair:
        transaction.on_commit(impact_summary_refresh)
    return drift


# --- pausing the after-transition fold ---------------------------------------------------------------------

# Per thread and per task, not per process: a bulk job pausing its own folds never pauses another request's.
_fold_suspended: ContextVar[bool] = ContextVar("impact_fold_suspended", default=False)


@dataclass
class FoldSuspension:
    """What ``impact_fold_suspended`` did when it ended: how many events its one fold counted."""

    folded: int = 0


def impact_fold_is_suspended() -> bool:
    """Whether transitions committed here should skip queueing a fold (the receiver asks)."""
    return _fold_suspended.get()


@contextmanager
def impact_fold_suspended() -> Iterator[FoldSuspension]:
    """Commit many transitions without a fold after each, then fold them all once on the way out.

    For bulk jobs (demo data, imports): every transition would otherwise queue a fold after its commit, all
    but the first finding nothing left to count. Only transitions committed inside the block are affected;
    if the block raises, nothing is folded here and the beat backstop counts what did commit. Nested use
    folds once, when the outermost block ends.
    """
    outermost = not _fold_suspended.get()
    token = _fold_suspended.set(True)
    suspension = FoldSuspension()
    try:
        yield suspension
    finally:
        _fold_suspended.reset(token)
    if outermost:
        suspension.folded = impact_fold_events()


# --- opening balances --------------------------------------------------------------------------------------


def opening_balance_set(*, hub: Hub, metric: str, value: Decimal | int, note: str = "") -> OpeningBalance:
    """Record a hub's historic total for one metric from before the platform, replacing any earlier figure."""
    if metric not in Metric.values:
        raise ImpactError(
            _("%(metric)s is not an impact metric. Choose one of: %(metrics)s.")
            % {"metric": metric, "metrics": ", ".join(Metric.values)}
        )
    value = Decimal(value)
    if value < 0:
        raise ImpactError(
            _("The opening balance of %(metric)s at %(hub)s cannot be negative; enter the historic total, 0 or more.")
            % {"metric": Metric(metric).label, "hub": hub.code}
        )
    with transaction.atomic():
        balance, _created = OpeningBalance.objects.update_or_create(
            hub=hub, metric=metric, defaults={"value": value, "note": note}
        )
        # The public totals include the balances: refresh them as a fold would.
        transaction.on_commit(impact_summary_refresh)
    return balance
