"""Make the chain of custody append-only in the database itself.

Rows may be inserted; the only update allowed is marking an event counted in impact. On PostgreSQL deletes
are refused too (TRUNCATE, which test databases use to reset, does not fire row triggers). SQLite, the
development default, gets the update guard only: its test reset empties tables with DELETE, and there the
application's PROTECT foreign key and the absence of any delete path stand guard.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION refurbishing_deviceevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'device events are append-only: % refused', TG_OP;
    END IF;
    IF (NEW.id, NEW.device_id, NEW.action, NEW.from_state, NEW.to_state, NEW.actor_id, NEW.hub_id,
        NEW.occurred_at, NEW.note, NEW.data)
       IS DISTINCT FROM
       (OLD.id, OLD.device_id, OLD.action, OLD.from_state, OLD.to_state, OLD.actor_id, OLD.hub_id,
        OLD.occurred_at, OLD.note, OLD.data)
       OR (OLD.impact_counted AND NOT NEW.impact_counted) THEN
        RAISE EXCEPTION 'device events are append-only: only marking one counted is allowed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER refurbishing_deviceevent_append_only
    BEFORE UPDATE OR DELETE ON refurbishing_deviceevent
    FOR EACH ROW EXECUTE FUNCTION refurbishing_deviceevent_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS refurbishing_deviceevent_append_only ON refurbishing_deviceevent;
DROP FUNCTION IF EXISTS refurbishing_deviceevent_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER refurbishing_deviceevent_no_update BEFORE UPDATE ON refurbishing_deviceevent
       WHEN NEW.id IS NOT OLD.id OR NEW.device_id IS NOT OLD.device_id OR NEW.action IS NOT OLD.action
         OR NEW.from_state IS NOT OLD.from_state OR NEW.to_state IS NOT OLD.to_state
         OR NEW.actor_id IS NOT OLD.actor_id OR NEW.hub_id IS NOT OLD.hub_id
         OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.note IS NOT OLD.note OR NEW.data IS NOT OLD.data
         OR (OLD.impact_counted AND NOT NEW.impact_counted)
       BEGIN SELECT RAISE(ABORT, 'device events are append-only: only marking one counted is allowed'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS refurbishing_deviceevent_no_update;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("refurbishing", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
