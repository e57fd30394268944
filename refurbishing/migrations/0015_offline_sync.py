"""Offline scan stations (issue 17): the moves they send, and both times on every event.

``DeviceEvent.recorded_at`` is when the server wrote the event; ``occurred_at`` stays when it happened (the
station's clock, bounded, for a move queued offline). Events written before this were recorded as they
happened, so they get ``recorded_at = occurred_at``. The append-only triggers now guard the new column too.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

PG_UP = f"""
CREATE OR REPLACE FUNCTION refurbishing_deviceevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'device events are append-only: % refused', TG_OP;
    END IF;
    IF (NEW.id, NEW.device_id, NEW.action, NEW.from_state, NEW.to_state, NEW.actor_id, NEW.hub_id,
        NEW.occurred_at, NEW.recorded_at, NEW.note, NEW.data)
       IS DISTINCT FROM
       (OLD.id, OLD.device_id, OLD.action, OLD.from_state, OLD.to_state, OLD.actor_id, OLD.hub_id,
        OLD.occurred_at, OLD.recorded_at, OLD.note, OLD.data)
       OR (OLD.impact_counted AND NOT NEW.impact_counted) THEN
        RAISE EXCEPTION 'device events are append-only: only marking one counted is allowed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_UP = [
    "DROP TRIGGER IF EXISTS refurbishing_deviceevent_no_update;",
    """CREATE TRIGGER refurbishing_deviceevent_no_update BEFORE UPDATE ON refurbishing_deviceevent
       WHEN NEW.id IS NOT OLD.id OR NEW.device_id IS NOT OLD.device_id OR NEW.action IS NOT OLD.action
         OR NEW.from_state IS NOT OLD.from_state OR NEW.to_state IS NOT OLD.to_state
         OR NEW.actor_id IS NOT OLD.actor_id OR NEW.hub_id IS NOT OLD.hub_id
         OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.recorded_at IS NOT OLD.recorded_at
         OR NEW.note IS NOT OLD.note OR NEW.data IS NOT OLD.data
         OR (OLD.impact_counted AND NOT NEW.impact_counted)
       BEGIN SELECT RAISE(ABORT, 'device events are append-only: only marking one counted is allowed'); END;""",
]


def recorded_as_it_happened(apps, schema_editor):
    # The triggers in force still compare the old columns only, so this one-time fill passes them.
    schema_editor.execute("UPDATE refurbishing_deviceevent SET recorded_at = occurred_at WHERE recorded_at IS NULL")


def guard_recorded_at(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        # SQLite rebuilt the table to make the column NOT NULL, which dropped its trigger: put it back, wider.
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("hubs", "0006_partners"),
        ("refurbishing", "0014_device_weee_weight"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deviceevent",
            name="recorded_at",
            field=models.DateTimeField(null=True, verbose_name="recorded at"),
        ),
        migrations.RunPython(recorded_as_it_happened, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="deviceevent",
            name="recorded_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded at"),
        ),
        migrations.RunPython(guard_recorded_at, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="device",
            index=models.Index(fields=["hub", "updated_at", "id"], name="device_hub_updated_idx"),
        ),
        migrations.CreateModel(
            name="SyncedMove",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.UUIDField(unique=True, verbose_name="move id (made on the device)")),
                ("code", models.CharField(max_length=80, verbose_name="code scanned")),
                ("action", models.CharField(max_length=20, verbose_name="action")),
                ("fields", models.JSONField(blank=True, default=dict, verbose_name="fields")),
                ("cached_version", models.PositiveIntegerField(verbose_name="version the station had")),
                ("occurred_at", models.DateTimeField(verbose_name="happened at (the station's clock)")),
                (
                    "recorded_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="recorded at (the server's clock)"
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("applied", "applied"), ("refused", "refused"), ("conflict", "conflict")],
                        max_length=10,
                        verbose_name="outcome",
                    ),
                ),
                ("message", models.TextField(blank=True, verbose_name="why")),
                ("reviewed_at", models.DateTimeField(blank=True, null=True, verbose_name="reviewed at")),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="made by",
                    ),
                ),
                (
                    "device",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="synced_moves",
                        to="refurbishing.device",
                        verbose_name="device",
                    ),
                ),
                (
                    "event",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="synced_move",
                        to="refurbishing.deviceevent",
                        verbose_name="event written",
                    ),
                ),
                (
                    "hub",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="hubs.hub",
                        verbose_name="hub",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reviewed by",
                    ),
                ),
            ],
            options={"verbose_name": "offline move", "verbose_name_plural": "offline moves"},
        ),
        migrations.AddIndex(
            model_name="syncedmove",
            index=models.Index(
                condition=models.Q(("reviewed_at__isnull", True), models.Q(("outcome", "applied"), _negated=True)),
                fields=["hub", "-id"],
                name="synced_move_to_review_idx",
            ),
        ),
    ]
