"""Reads of devices and their history, already scoped to the user and carrying their joins."""

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from .models import Device, DeviceEvent, DeviceState, RecyclingBatch, SanitisationRecord, Transfer

User = AbstractBaseUser | AnonymousUser


def device_list(*, user: User, action: str = "view") -> QuerySet[Device]:
    """Devices at the hubs where the user may do ``action`` (all for superusers), with what list pages show."""
    return Device.objects.select_related("hub", "donation").restrict(user, action)


def device_in_scope(*, user: User, device_id: int, action: str = "act") -> bool:
    """Whether the device is (still) where the user may do ``action``: the check every surface makes after a write."""
    return Device.objects.filter(pk=device_id).restrict(user, action).exists()


def device_get(*, user: User, pk: int) -> Device:
    """One device the user may see; ``Device.DoesNotExist`` outside their hubs (so surfaces answer 404)."""
    return device_list(user=user).get(pk=pk)


def device_event_list(*, device: Device) -> QuerySet[DeviceEvent]:
    return device.events.select_related("actor", "hub").order_by("occurred_at", "id")


def device_list_for_donation(*, donation_id: int) -> QuerySet[Device]:
    """All devices of one donation, for the donor who made it (the caller checks the donor)."""
    return Device.objects.filter(donation_id=donation_id).select_related("hub").order_by("id")


def device_registered_serials(*, serials: list[str]) -> list[tuple[str, str]]:
    """(manufacturer, serial) of the registered devices carrying any of these serial numbers."""
    return list(Device.objects.filter(serial_number__in=serials).values_list("manufacturer", "serial_number"))


def device_donation_has_arrivals(*, donation_id: int) -> bool:
    """Whether any device of the donation has left the pledged state (arrived, or marked missing)."""
    return Device.objects.filter(donation_id=donation_id).exclude(state=Device.State.PLEDGED).exists()


def device_counts_by_state(*, queryset: QuerySet[Device]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("state").annotate(n=Count("id")))


EVENT_FOLD_FIELDS = ("id", "action", "to_state", "hub_id", "occurred_at", "data", "device__category")


def device_events_uncounted_for_update(*, limit: int) -> list[dict[str, Any]]:
    """The oldest events not yet folded into impact, locked for the caller's transaction.

    ``skip_locked`` lets two workers fold side by side, each taking events the other has not locked.
    Served by a partial index over uncounted rows only, so the cost follows the backlog, not the history.
    """
    queryset = (
        DeviceEvent.objects.filter(impact_counted=False)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .values(*EVENT_FOLD_FIELDS)
    )
    return list(queryset[:limit])


def device_events_all_for_recount(*, chunk_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event already folded into impact, streamed, for recomputing the counters from scratch."""
    return (
        DeviceEvent.objects.filter(impact_counted=True)
        .order_by("id")
        .values(*EVENT_FOLD_FIELDS)
        .iterator(chunk_size=chunk_size)
    )


# A scan finds at most this many devices; more would mean the code is not specific enough to act on.
SCAN_MATCHES_MAX = 20


def device_code_condition(code: str) -> Q:
    """Devices whose serial number, asset tag or label code is exactly ``code`` (as typed or in capitals).

    Equality on the three indexed columns keeps the lookup an index probe on millions of rows; scanners
    usually send capitals, and label codes are capitals only.
    """
    variants = {code, code.upper()}
    return Q(serial_number__in=variants) | Q(asset_tag__in=variants) | Q(label_code=code.upper())


def device_find_by_code(*, user: User, code: str) -> list[Device]:
    """The user's devices a scanned code names (usually one; several when serials collide across makes)."""
    code = code.strip()
    if not code:
        return []
    queryset = device_list(user=user).filter(device_code_condition(code)).order_by("pk")
    return list(queryset[:SCAN_MATCHES_MAX])


def device_get_by_label_code(*, user: User, label_code: str) -> Device:
    """The device a label's QR code names; ``Device.DoesNotExist`` outside the user's hubs."""
    return device_list(user=user).get(label_code=label_code.strip().upper())


def device_records(*, device: Device) -> dict[str, dict[int, Any]]:
    """The records behind a device's moves, by kind and id, so a timeline can say what each move recorded."""
    return {
        "sanitisation": {r.pk: r for r in device.sanitisation_records.select_related("operator")},
        "inspection": {r.pk: r for r in device.inspection_records.select_related("inspector")},
        "configuration": {r.pk: r for r in device.configuration_records.select_related("configured_by")},
    }


def device_list_unexpected_in_donation(*, donation_id: int) -> QuerySet[Device]:
    """Devices of a donation that were not pledged: found at check-in and added to it."""
    return Device.objects.filter(
        donation_id=donation_id, events__action="receive", events__data__unexpected=True
    ).distinct()


# --- Donor-facing reads: progress, history, sanitisation and destinations of one donation's devices -------------

# The states a device has passed through once it reached a stage. The lifecycle only lets a device with storage
# media be inspected after a verified wipe, so every state from "sanitised" on proves it was wiped.
STATES_RECEIVED = tuple(s for s in DeviceState.values if s not in (DeviceState.PLEDGED, DeviceState.MISSING))
STATES_SANITISED = (
    DeviceState.SANITISED,
    DeviceState.INSPECTED,
    DeviceState.CONFIGURED,
    DeviceState.ALLOCATED,
    DeviceState.SHIPPED,
    DeviceState.DELIVERED,
    DeviceState.TO_RECYCLE,
    DeviceState.RECYCLED,
)
STATES_REFURBISHED = (DeviceState.CONFIGURED, DeviceState.ALLOCATED, DeviceState.SHIPPED, DeviceState.DELIVERED)
PROGRESS_STAGES = (
    "pledged",
    "received",
    "with_storage",
    "sanitised",
    "refurbished",
    "delivered",
    "recycled",
    "missing",
)


def device_progress_aggregates(*, prefix: str = "") -> dict[str, Count]:
    """Conditional counts of devices per stage, to annotate or aggregate in one query.

    ``prefix`` is the path to the devices (``"devices__"`` from a donation). A missing device never arrived,
    so it counts as pledged and missing only.
    """

    def count(**conditions: Any) -> Count:
        return Count(f"{prefix}id", filter=Q(**{f"{prefix}{k}": v for k, v in conditions.items()}))

    return {
        "progress_pledged": Count(f"{prefix}id"),
        "progress_received": count(state__in=STATES_RECEIVED),
        # Every device with storage media the donation still counts on, pledged ones included: "0 sanitised, of
        # 2 with storage media" agrees with "2 devices with storage media have still to arrive".
        "progress_with_storage": Count(
            f"{prefix}id",
            filter=Q(**{f"{prefix}has_storage_media": True}) & ~Q(**{f"{prefix}state": DeviceState.MISSING}),
        ),
        "progress_sanitised": count(state__in=STATES_SANITISED, has_storage_media=True),
        "progress_refurbished": count(state__in=STATES_REFURBISHED),
        "progress_delivered": count(state=DeviceState.DELIVERED),
        "progress_recycled": count(state=DeviceState.RECYCLED),
        "progress_missing": count(state=DeviceState.MISSING),
    }


def device_progress(*, queryset: QuerySet[Device]) -> dict[str, int]:
    """The stage counts of a set of devices, as ``{stage: count}`` (one query)."""
    totals = queryset.order_by().aggregate(**device_progress_aggregates())
    return {stage: totals[f"progress_{stage}"] for stage in PROGRESS_STAGES}


def device_list_with_last_move(*, queryset: QuerySet[Device]) -> QuerySet[Device]:
    """The devices with ``last_moved_at``: when their latest chain-of-custody event happened (for "since")."""
    last = DeviceEvent.objects.filter(device=OuterRef("pk")).order_by("-id").values("occurred_at")[:1]
    return queryset.annotate(last_moved_at=Subquery(last))


def sanitisation_record_list_for_donation(*, donation_id: int) -> QuerySet[SanitisationRecord]:
    """Every verified wipe of the donation's devices, with the device and the operator (one query)."""
    return (
        SanitisationRecord.objects.filter(device__donation_id=donation_id, verified=True)
        .select_related("device", "operator")
        .order_by("device_id", "completed_at", "id")
    )


def device_delivery_project_ids(*, device_ids: Iterable[int]) -> dict[int, int]:
    """For each delivered device among ``device_ids``, the project its delivery event names."""
    rows = DeviceEvent.objects.filter(
        device_id__in=list(device_ids), action="deliver", to_state=DeviceState.DELIVERED
    ).values_list("device_id", "data")
    return {device_id: int(data["project_id"]) for device_id, data in rows if (data or {}).get("project_id")}


def device_delivery_figures(*, queryset: QuerySet[Device]) -> list[tuple[int, str, dict[str, Any]]]:
    """For the delivered devices of ``queryset``: (device id, category, the delivery event's data) (one query)."""
    return list(
        DeviceEvent.objects.filter(
            device__in=queryset.order_by().values("pk"), action="deliver", to_state=DeviceState.DELIVERED
        ).values_list("device_id", "device__category", "data")
    )


def device_recycled_weight_kg(*, queryset: QuerySet[Device]) -> Decimal:
    """The total weight of the recycled devices of ``queryset``, as handed over to the recycler."""
    total = queryset.order_by().filter(state=DeviceState.RECYCLED).aggregate(kg=Sum("weight_kg"))["kg"]
    return total or Decimal(0)


def recycling_batch_list_open(*, hub_id: int) -> QuerySet[RecyclingBatch]:
    """The hub's recycling batches still open (for its dashboard)."""
    return (
        RecyclingBatch.objects.filter(hub_id=hub_id, status=RecyclingBatch.Status.OPEN)
        .select_related("partner")
        .order_by("id")
    )


def transfer_list_open(*, hub_id: int) -> QuerySet[Transfer]:
    """Transfers in transit from or to the hub (for its dashboard)."""
    return (
        Transfer.objects.filter(Q(from_hub_id=hub_id) | Q(to_hub_id=hub_id), status=Transfer.Status.SHIPPED)
        .select_related("from_hub", "to_hub")
        .order_by("id")
    )
