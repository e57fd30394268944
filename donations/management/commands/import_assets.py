"""Import a donor's asset list (CSV or XLSX) into a donation, for hub staff who import on a donor's behalf.

    python manage.py import_assets PATH --donation REFERENCE [--set FIELD=VALUE ...] [--dry-run]

Exits 0 printing ``Imported N devices`` (``Checked N rows`` with --dry-run). With problems it writes nothing,
prints one line per problem, ``row R, column C: reason``, and exits 1.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from donations.imports.spreadsheet import IMPORT_FIELDS
from donations.models import Donation
from donations.services import DonationError, donation_import_spreadsheet


class Command(BaseCommand):
    help = "Import an asset list (CSV or XLSX) as pledged devices of a donation, all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The CSV or XLSX file.")
        parser.add_argument("--donation", required=True, help="The donation's reference, e.g. DON-2026-000042.")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help=f"A value for a field the file lacks or leaves empty; fields: {', '.join(IMPORT_FIELDS)}.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")

    def handle(self, *args, path: str, donation: str, set: list[str], dry_run: bool, **options) -> None:
        translation.activate("en")
        defaults: dict[str, str] = {}
        for item in set:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--set {item!r}: write it as FIELD=VALUE, e.g. category=laptop.")
            defaults[name.strip()] = value.strip()
        try:
            target = Donation.objects.select_related("hub").get(reference=donation)
        except Donation.DoesNotExist:
            raise CommandError(f"No donation with reference {donation!r}.") from None
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"No file at {path}.")
        with file_path.open("rb") as file:
            try:
                outcome = donation_import_spreadsheet(
                    donation=target,
                    actor=None,
                    file=file,
                    filename=file_path.name,
                    defaults=defaults,
                    dry_run=dry_run,
                )
            except DonationError as exc:
                raise CommandError(str(exc)) from None
        if outcome.problems:
            for problem in outcome.problems:
                self.stdout.write(str(problem))
            self.stderr.write(f"{len(outcome.problems)} problems; nothing was imported.")
            sys.exit(1)
        if outcome.unknown_columns:
            self.stderr.write(f"Ignored columns: {', '.join(outcome.unknown_columns)}")
        if dry_run:
            self.stdout.write(f"Checked {outcome.rows} rows: ready to import {outcome.rows} devices")
        else:
            self.stdout.write(f"Imported {outcome.imported} devices")
