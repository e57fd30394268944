# Every device gets a short label code (printed as a QR code), and `configure` records what was installed.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import refurbishing.models


def give_existing_devices_a_label_code(apps, schema_editor):
    """Existing rows get a fresh code each (the column is made unique once all have one)."""
    Device = apps.get_model("refurbishing", "Device")
    used = set()
    batch = []
    for pk in Device.objects.filter(label_code__isnull=True).values_list("pk", flat=True).iterator(chunk_size=2000):
        code = refurbishing.models.label_code_new()
        while code in used:
            code = refurbishing.models.label_code_new()
        used.add(code)
        batch.append(Device(pk=pk, label_code=code))
        if len(batch) >= 2000:
            Device.objects.bulk_update(batch, ["label_code"])
            batch = []
    if batch:
        Device.objects.bulk_update(batch, ["label_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("refurbishing", "0003_device_event_drop_duplicate_device_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="label_code",
            field=models.CharField(editable=False, max_length=8, null=True, verbose_name="label code"),
        ),
        migrations.RunPython(give_existing_devices_a_label_code, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="device",
            name="label_code",
            field=models.CharField(
                default=refurbishing.models.label_code_new,
                editable=False,
                max_length=8,
                unique=True,
                verbose_name="label code",
            ),
        ),
        migrations.CreateModel(
            name="ConfigurationRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "operating_system",
                    models.CharField(
                        help_text="e.g. Windows 11 Pro, Ubuntu 24.04, the hub's school image.",
                        max_length=120,
                        verbose_name="operating system or image",
                    ),
                ),
                ("os_version", models.CharField(blank=True, max_length=40, verbose_name="version")),
                (
                    "keyboard_layout",
                    models.CharField(
                        blank=True,
                        help_text="e.g. US, UK, AZERTY (BE), QWERTZ.",
                        max_length=40,
                        verbose_name="keyboard layout",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        blank=True, help_text="e.g. English, Kiswahili.", max_length=40, verbose_name="language"
                    ),
                ),
                (
                    "licence",
                    models.CharField(
                        choices=[
                            ("microsoft_refurbisher", "Microsoft Registered Refurbisher licence"),
                            ("oem", "original manufacturer's licence kept"),
                            ("free", "none needed (free software)"),
                            ("none", "none"),
                        ],
                        default="none",
                        max_length=30,
                        verbose_name="licence",
                    ),
                ),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("configured_at", models.DateTimeField(verbose_name="configured at")),
                (
                    "configured_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="configured by",
                    ),
                ),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="configuration_records",
                        to="refurbishing.device",
                        verbose_name="device",
                    ),
                ),
            ],
            options={
                "verbose_name": "configuration record",
                "verbose_name_plural": "configuration records",
                "ordering": ["-configured_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("operating_system", ""), _negated=True), name="configuration_has_system"
                    )
                ],
            },
        ),
    ]
