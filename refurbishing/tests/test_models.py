"""The chain of custody in the database itself: PostgreSQL refuses to rewrite or delete an event row."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from refurbishing.factories import DeviceFactory
from refurbishing.models import DeviceEvent, DeviceState


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_event_rows_refuse_update_and_delete_but_allow_marking_counted(staff_be):
    device = DeviceFactory()
    # Written directly so no after-commit fold marks it counted before the test does.
    event = DeviceEvent.objects.create(
        device=device,
        action="receive",
        from_state=DeviceState.PLEDGED,
        to_state=DeviceState.RECEIVED,
        actor=staff_be,
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
