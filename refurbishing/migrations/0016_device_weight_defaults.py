"""Give every device registered before the defaults table its WEEE category and, where no weight was recorded,
the typical weight of its model or category (refurbishing/data/device_weights.csv), with basis and source.

A weight already recorded (declared, 0014) stays. The table is read once and devices are written in chunks, so
the migration's memory follows a chunk, not the number of devices."""

from django.db import migrations


def devices_weight_defaults_fill(apps, schema_editor):
    # The same table and rules as every registration: pure functions over field values (refurbishing.weights).
    from refurbishing.weights import devices_weight_defaults_fill as fill

    fill(device_model=apps.get_model("refurbishing", "Device"))


class Migration(migrations.Migration):
    dependencies = [
        ("refurbishing", "0015_offline_sync"),
    ]

    operations = [
        migrations.RunPython(devices_weight_defaults_fill, migrations.RunPython.noop, elidable=True),
    ]
