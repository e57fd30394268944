"""Races that only a real database with row locks can referee: run against PostgreSQL in CI.

Each racer runs in its own thread with its own database connection, reads the device first (as a person
looking at the page would), then all start together at a barrier.
"""

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from impact.models import ImpactCounter, Metric
from impact.services import impact_fold_events, impact_reconcile, impact_recount
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceEvent, DeviceState, SanitisationRecord
from refurbishing.services import device_transition
from tests.factories import DeviceFactory, StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 30


def run_together(*jobs: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run each job in its own thread, released at the same moment; return ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, Any] | None] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = ("ok", job(barrier))
        except BaseException as exc:  # noqa: BLE001  (the test inspects whatever the racer raised)
            results[index] = ("error", exc)
        finally:
            connection.close()  # each thread opened its own connection; the test database must be droppable

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a racer is still running: deadlock or lock wait"
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def transition_racer(*, device_pk: int, actor, action: str, **kwargs) -> Callable[[threading.Barrier], Any]:
    def job(barrier: threading.Barrier) -> str:
        device = Device.objects.get(pk=device_pk)  # the copy this person saw before pressing the button
        barrier.wait(timeout=JOIN_TIMEOUT)
        return device_transition(device=device, actor=actor, action=action, **kwargs).state

    return job


def actions_of(device: Device) -> list[str]:
    return list(device.events.order_by("id").values_list("action", flat=True))


def assert_one_winner(results: list[tuple[str, Any]], *, winner_state: str) -> None:
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    errors = [value for kind, value in results if kind == "error"]
    assert isinstance(errors[0], LifecycleError), repr(errors[0])
    assert errors[0].code == "conflict", errors[0].message
    assert "just changed by someone else" in errors[0].message
    assert [value for kind, value in results if kind == "ok"] == [winner_state]


@pytest.fixture
def actors(hubs):
    hub = hubs["BE-BRU"]
    return StaffFactory(username="tech-a", hub=hub), StaffFactory(username="tech-b", hub=hub)


def test_two_people_receive_the_same_device_once(actors):
    device = DeviceFactory()
    first, second = actors
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="receive"),
        transition_racer(device_pk=device.pk, actor=second, action="receive"),
    )

    assert_one_winner(results, winner_state=DeviceState.RECEIVED)
    device.refresh_from_db()
    assert device.state == DeviceState.RECEIVED
    assert device.version == 1
    assert actions_of(device) == [*history, "receive"]


def test_two_people_sanitise_the_same_device_once(actors, sanitisation):
    first, second = actors
    device = device_transition(device=DeviceFactory(), actor=first, action="receive")
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="sanitise", record=sanitisation),
        transition_racer(device_pk=device.pk, actor=second, action="sanitise", record=sanitisation),
    )

    assert_one_winner(results, winner_state=DeviceState.SANITISED)
    device.refresh_from_db()
    assert device.state == DeviceState.SANITISED
    assert actions_of(device) == [*history, "sanitise"]
    assert SanitisationRecord.objects.filter(device=device).count() == 1


def test_inspect_pass_and_fail_at_once_keeps_one_outcome(actors):
    first, second = actors
    device = device_transition(device=DeviceFactory(has_storage_media=False), actor=first, action="receive")
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="inspect", record={"passed": True, "grade": "A"}),
        transition_racer(device_pk=device.pk, actor=second, action="inspect", record={"passed": False}),
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, LifecycleError) and error.code == "conflict"
    device.refresh_from_db()
    assert device.state in (DeviceState.INSPECTED, DeviceState.TO_RECYCLE)
    assert actions_of(device) == [*history, "inspect"]
    assert device.inspection_records.count() == 1


def test_receive_and_mark_missing_at_once_keeps_one_story(actors):
    first, second = actors
    device = DeviceFactory()
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="receive"),
        transition_racer(device_pk=device.pk, actor=second, action="mark_missing"),
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, LifecycleError) and error.code == "conflict"
    device.refresh_from_db()
    assert len(actions_of(device)) == len(history) + 1
    assert device.events.order_by("id").last().to_state == device.state


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


def test_two_folds_at_once_count_every_event_exactly_once(hubs, actors):
    expected = _backlog(hubs=hubs, actor=actors[0])
    backlog = DeviceEvent.objects.filter(impact_counted=False).count()
    assert backlog >= 240

    def fold(barrier: threading.Barrier) -> int:
        barrier.wait(timeout=JOIN_TIMEOUT)
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


def test_event_rows_refuse_update_and_delete_but_allow_marking_counted(actors):
    device = DeviceFactory()
    # Written directly so no after-commit fold marks it counted before the test does.
    event = DeviceEvent.objects.create(
        device=device,
        action="receive",
        from_state=DeviceState.PLEDGED,
        to_state=DeviceState.RECEIVED,
        actor=actors[0],
        hub_id=device.hub_id,
        occurred_at=datetime.now(UTC),
        note="arrived boxed",
    )
    assert event.impact_counted is False
    table = DeviceEvent._meta.db_table

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET note = %s WHERE id = %s", ["rewritten history", event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET impact_counted = TRUE WHERE id = %s", [event.pk])
        assert cursor.rowcount == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET impact_counted = FALSE WHERE id = %s", [event.pk])

    event.refresh_from_db()
    assert event.note == "arrived boxed"
    assert event.impact_counted is True
