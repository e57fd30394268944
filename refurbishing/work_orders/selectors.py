"""Reads of work orders, scoped to the user (hub staff see their hubs' orders, partners their own), with progress."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from refurbishing.lifecycle import source_states
from refurbishing.models import DeviceEvent, DeviceState, WorkOrder

User = AbstractBaseUser | AnonymousUser


def _per_state_counts() -> dict[str, Count]:
    return {f"devices_{state}": Count("devices", filter=Q(devices__state=state)) for state in DeviceState.values}


def work_order_list(*, user: User) -> QuerySet[WorkOrder]:
    """The orders the user may see, each annotated with its devices per state (``work_order_done_assigned``)."""
    per_state = {f"devices_{state}": Count("devices", filter=Q(devices__state=state)) for state in DeviceState.values}
    return (
        WorkOrder.objects.select_related("hub", "partner")
        .restrict(user, "view")
        .annotate(**per_state)
        .order_by("-created_at", "-id")
    )


def work_order_open_holding(*, device_ids: Iterable[int], partner_ids: Iterable[int]) -> dict[int, WorkOrder]:
    """For each of the devices held by an open work order of one of the partners, that order (the oldest, should
    there be several), with its partner and hub: one query, whatever the number of devices."""
    partner_ids = list(partner_ids)
    if not partner_ids:
        return {}
    links = (
        WorkOrder.devices.through.objects.filter(
            device_id__in=list(device_ids),
            workorder__partner_id__in=partner_ids,
            workorder__status=WorkOrder.Status.OPEN,
        )
        .select_related("workorder__partner", "workorder__hub")
        .order_by("-workorder_id")
    )
    return {link.device_id: link.workorder for link in links}  # the oldest order is written last and stays


def work_order_list_open_for_hub(*, hub_id: int) -> list[tuple[WorkOrder, int, int]]:
    """The hub's open work orders, soonest due first, each with (devices done, devices assigned) (one query)."""
    orders = (
        WorkOrder.objects.filter(hub_id=hub_id, status=WorkOrder.Status.OPEN)
        .select_related("partner")
        .annotate(**_per_state_counts())
        .order_by("due_on", "id")
    )
    return [(order, *work_order_done_assigned(order)) for order in orders]


def work_order_done_assigned(order: WorkOrder) -> tuple[int, int]:
    """(devices done, devices assigned) of an order read through ``work_order_list`` (no query)."""
    still_open = work_order_open_states(order)
    counts = {state: getattr(order, f"devices_{state}", 0) for state in DeviceState.values}
    return sum(n for state, n in counts.items() if state not in still_open), sum(counts.values())


@dataclass(frozen=True)
class WorkOrderProgress:
    """How far a partner has got: devices assigned, devices whose assigned work is done, moves the partner made."""

    assigned: int
    done: int
    partner_moves: int


def work_order_open_states(order: WorkOrder) -> set[str]:
    """The states in which one of the order's steps still comes next: a device in any other state is done."""
    return {str(state) for step in order.steps or [] for state in source_states(step)}


def work_order_progress(*, orders: list[WorkOrder]) -> dict[int, WorkOrderProgress]:
    """The progress of each order, by id, in two queries whatever the number of orders."""
    ids = [order.pk for order in orders]
    states: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        WorkOrder.devices.through.objects.filter(workorder_id__in=ids)
        .values_list("workorder_id", "device__state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for order_id, state, count in rows:
        states[order_id][state] = count
    moves = dict(
        DeviceEvent.objects.filter(data__work_order_id__in=ids)
        .values_list("data__work_order_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    progress = {}
    for order in orders:
        by_state = states.get(order.pk, {})
        still_open = work_order_open_states(order)
        progress[order.pk] = WorkOrderProgress(
            assigned=sum(by_state.values()),
            done=sum(n for state, n in by_state.items() if state not in still_open),
            partner_moves=int(moves.get(order.pk, 0)),
        )
    return progress
