"""Two folds at once, on PostgreSQL in CI: every event is counted exactly once, whoever takes which batch."""

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from impact.models import ImpactCounter, Metric
from impact.services import impact_fold_events, impact_reconcile, impact_recount
from refurbishing.factories import DeviceFactory
from refurbishing.models import DeviceEvent, DeviceState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _backlog(*, hubs, actor) -> dict[str, Decimal]:
    """Write uncounted events straight into the chain of custody (as committed transitions leave them).

    Written directly rather than through the service so no after-commit fold runs while building it; the fold
    sees the same rows either way. Spread over two hubs and two months so the folds touch many counter cells.
    """
    devices = [DeviceFactory(hub=hub, donation__hub=hub) for hub in (hubs["BE-BRU"], hubs["KE-MBA"])]
    start = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    events = []
    expected = {
        Metric.DEVICES_RECEIVED: Decimal(0),
        Metric.DEVICES_DELIVERED: Decimal(0),
        Metric.BENEFICIARIES_REACHED: Decimal(0),
        Metric.DEVICES_RECYCLED: Decimal(0),
        Metric.EWASTE_RECYCLED_KG: Decimal(0),
    }
    for i in range(240):
        device = devices[i % 2]
        occurred_at = start + timedelta(minutes=i)  # crosses into April half-way
        kind = i % 3
        if kind == 0:
            to_state, data = DeviceState.RECEIVED, {}
            expected[Metric.DEVICES_RECEIVED] += 1
        elif kind == 1:
            to_state, data = DeviceState.DELIVERED, {"beneficiaries": i % 7, "project_kind": "education"}
            expected[Metric.DEVICES_DELIVERED] += 1
            expected[Metric.BENEFICIARIES_REACHED] += i % 7
        else:
            to_state, data = DeviceState.RECYCLED, {"weight_kg": "1.25"}
            expected[Metric.DEVICES_RECYCLED] += 1
            expected[Metric.EWASTE_RECYCLED_KG] += Decimal("1.25")
        events.append(
            DeviceEvent(
                device=device,
                action="test",
                from_state="",
                to_state=to_state,
                actor=actor,
                hub_id=device.hub_id,
                occurred_at=occurred_at,
                data=data,
            )
        )
    DeviceEvent.objects.bulk_create(events)
    return expected


def test_two_folds_at_once_count_every_event_exactly_once(hubs, staff_be, run_together):
    expected = _backlog(hubs=hubs, actor=staff_be)
    backlog = DeviceEvent.objects.filter(impact_counted=False).count()
    assert backlog >= 240

    def fold(barrier: threading.Barrier) -> int:
        barrier.wait()
        # Small batches so the two runs interleave over many transactions instead of one taking it all.
        return impact_fold_events(batch_size=7)

    results = run_together(fold, fold)

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert sum(value for _, value in results) == backlog
    assert all(value > 0 for _, value in results), "one fold took the whole backlog: the race was not exercised"
    assert not DeviceEvent.objects.filter(impact_counted=False).exists()
    totals = {
        row["metric"]: row["total"] for row in ImpactCounter.objects.values("metric").annotate(total=Sum("value"))
    }
    assert {metric: totals.get(metric, Decimal(0)) for metric in expected} == expected
    recounted: dict[str, Decimal] = defaultdict(Decimal)
    for (metric, *_cell), value in impact_recount().items():
        recounted[metric] += value
    assert {metric: recounted[metric] for metric in expected} == expected
    assert impact_reconcile(repair=False) == []  # cell by cell, the counters equal a recount from the events
    assert impact_fold_events() == 0  # a retried or duplicated run finds nothing left to count
