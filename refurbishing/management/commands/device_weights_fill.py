"""Apply the defaults table to the devices whose weight is a default or unknown (after rows were added)."""

from django.core.management.base import BaseCommand

from refurbishing.weights import devices_weight_defaults_fill, weight_table


class Command(BaseCommand):
    help = (
        "Give devices without a WEEE category their category, and devices whose weight is a default or unknown the "
        "current default of refurbishing/data/device_weights.csv. Measured and declared weights are never touched."
    )

    def handle(self, *args, **options):
        table = weight_table()  # refuses an invalid table before anything is written
        changed = devices_weight_defaults_fill(table=table)
        self.stdout.write(f"{changed} devices updated from {len(table.rows)} table rows.")
