"""The published factors the public estimate starts from; staff update them in the admin."""

from decimal import Decimal

from django.db import migrations

PUC = "PUC Belgium, avoided manufacturing emissions per reused device"
WORLDLOOP = "Close the Gap / WorldLoop: 1 t of e-waste recycled avoids 1.44 t CO2"
FACTORS = [
    ("laptop", "Laptop reused", Decimal("69"), PUC),
    ("desktop", "Desktop PC reused", Decimal("109"), PUC),
    ("monitor", "Screen reused", Decimal("41"), PUC),
    ("smartphone", "Smartphone reused", Decimal("27"), PUC),
    ("ewaste_kg", "E-waste recycled (per kg)", Decimal("1.44"), WORLDLOOP),
]


def forwards(apps, schema_editor):
    EmissionFactor = apps.get_model("impact", "EmissionFactor")
    for applies_to, label, kg_co2e, source in FACTORS:
        EmissionFactor.objects.get_or_create(
            applies_to=applies_to, defaults={"label": label, "kg_co2e": kg_co2e, "source": source}
        )


class Migration(migrations.Migration):
    dependencies = [("impact", "0002_emission_factor")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
