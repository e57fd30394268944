"""Certificates never change once issued: the database refuses any update, and on PostgreSQL any delete.

SQLite, the development default, refuses updates only: its test reset empties tables with DELETE (as for the
device events' guard in refurbishing 0002); there the PROTECT foreign keys and the absence of a delete path
stand guard.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION donations_certificate_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'certificates never change once issued: % refused; issue a new one that supersedes it', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER donations_certificate_immutable
    BEFORE UPDATE OR DELETE ON donations_certificate
    FOR EACH ROW EXECUTE FUNCTION donations_certificate_immutable();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS donations_certificate_immutable ON donations_certificate;
DROP FUNCTION IF EXISTS donations_certificate_immutable();
"""
SQLITE_UP = """CREATE TRIGGER donations_certificate_no_update BEFORE UPDATE ON donations_certificate
BEGIN SELECT RAISE(ABORT, 'certificates never change once issued: issue a new one that supersedes it'); END;"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS donations_certificate_no_update;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("donations", "0002_certificate")]

    operations = [migrations.RunPython(forwards, backwards)]
