from django.core.management.base import BaseCommand

from impact.services import impact_reconcile


class Command(BaseCommand):
    help = "Recompute every impact counter from the events, report any drift, and repair it (unless --check)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift without repairing it.")

    def handle(self, *args, check: bool = False, **options):
        drift = impact_reconcile(repair=not check)
        if not drift:
            self.stdout.write(self.style.SUCCESS("No drift: every counter equals the recount from events."))
            return
        for item in drift:
            category = item["device_category"] or "-"
            self.stdout.write(
                f"DRIFT {item['metric']} hub={item['hub']} kind={item['project_kind'] or '-'} "
                f"category={category} month={item['month']}: counted {item['counted']}, events say {item['expected']}"
            )
        verb = "found (not repaired: --check)" if check else "found and repaired"
        self.stdout.write(self.style.WARNING(f"{len(drift)} drifted counter(s) {verb}."))
        if check:
            raise SystemExit(1)
