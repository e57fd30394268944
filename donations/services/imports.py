"""Donations' services: imports."""

import io
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.imports.spreadsheet import (
    IMPORT_FIELDS,
    Problem,
    RowCleaner,
    SpreadsheetError,
    match_headers,
    open_sheet,
)
from donations.models import Donation, Donor, SpreadsheetImport
from hubs.models import Hub
from refurbishing.selectors import (
    device_registered_serials,
)
from refurbishing.services import (
    DevicesAlreadyRegistered,
    device_register_stream,
)

from .common import DonationError
from .pledges import check_editable, donation_change_record, donation_create

# --- spreadsheet import ------------------------------------------------------------------------------------

PROGRESS_EVERY = 1000
EXISTING_CHECK_CHUNK = 2000
SAMPLE_ROWS = 50
SAMPLES_PER_COLUMN = 3
PREVIEW_DEVICES = 5
PREVIEW_FIELDS = (
    "row_number",
    "category",
    "manufacturer",
    "model",
    "serial_number",
    "asset_tag",
    "ram_gb",
    "storage_gb",
    "storage_kind",
    "has_storage_media",
)


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


logger = logging.getLogger(__name__)


@dataclass
class ImportOutcome:
    """What an import (or its dry run) found: rows read, devices written, and every problem."""

    headers: list[str]
    mapping: list[str | None]
    rows: int = 0
    imported: int = 0
    problems: list[Problem] = field(default_factory=list)
    donation: Donation | None = None
    # A few distinct values of each column, from the first rows: shown beside the mapping.
    samples: list[list[str]] = field(default_factory=list)
    # A dry run's first clean devices as they will be written, and the totals of all of them.
    preview: list[dict[str, Any]] = field(default_factory=list)
    by_category: dict[str, int] = field(default_factory=dict)
    with_storage: int = 0

    def note_samples(self, cells: list[str]) -> None:
        """Keep up to SAMPLES_PER_COLUMN distinct values of each column, read from the first SAMPLE_ROWS rows."""
        if self.rows > SAMPLE_ROWS:
            return
        if not self.samples:
            self.samples = [[] for _header in self.headers]
        for index, value in enumerate(cells[: len(self.headers)]):
            value = " ".join(str(value).split())[:40]
            kept = self.samples[index]
            if value and value not in kept and len(kept) < SAMPLES_PER_COLUMN:
                kept.append(value)

    def note_device(self, device: Mapping[str, Any]) -> None:
        """Count a clean device in the totals, and keep it for the preview if it is among the first."""
        category = device.get("category") or ""
        self.by_category[category] = self.by_category.get(category, 0) + 1
        self.with_storage += bool(device.get("has_storage_media"))
        if len(self.preview) < PREVIEW_DEVICES:
            self.preview.append({name: _json_value(device.get(name)) for name in PREVIEW_FIELDS})

    @property
    def unknown_columns(self) -> list[str]:
        return [header for header, name in zip(self.headers, self.mapping, strict=False) if header and not name]

    @property
    def ok(self) -> bool:
        return not self.problems


class _ImportRefused(Exception):
    """Raised inside the import's transaction to roll back everything written so far."""


def spreadsheet_read_headers(*, file: IO[bytes], filename: str = "") -> tuple[list[str], list[str | None]]:
    """The file's header row and the field each column was matched to; raises DonationError if unreadable."""
    try:
        sheet = open_sheet(file, filename=filename)
    except SpreadsheetError as exc:
        raise DonationError(str(exc)) from exc
    try:
        return sheet.headers, match_headers(sheet.headers)
    finally:
        sheet.close()


def _validated_rows(
    *,
    sheet,
    cleaner: RowCleaner,
    outcome: ImportOutcome,
    progress: Callable[[int], None] | None,
    check_registered: bool,
) -> Iterator[dict[str, Any]]:
    """Clean every row, yielding the clean ones as devices (with their ``row_number``); problems go into the outcome.

    Serial numbers are compared without case or spaces within the file; with ``check_registered`` (a dry run)
    also against the devices already registered (same serial, same manufacturer whatever its case), a chunk at
    a time. An import leaves that check to the writer, which does it on the rows it holds.
    """
    first_row_of_serial: dict[str, int] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    serial_column = cleaner.column_label("serial_number")
    max_rows = settings.IMPORT_MAX_ROWS

    def flush() -> Iterator[dict[str, Any]]:
        if not check_registered:
            # The writer checks them, among the rows it holds. Rows keep flowing after a problem, so that every
            # registered serial is reported too; the transaction rolls all of it back.
            for row_number, device in pending:
                yield device | {"row_number": row_number}
            pending.clear()
            return
        serials = [device["serial_number"] for _row, device in pending]
        registered = {
            (manufacturer.casefold(), serial) for manufacturer, serial in device_registered_serials(serials=serials)
        }
        for row_number, device in pending:
            if (device["manufacturer"].casefold(), device["serial_number"]) in registered:
                outcome.problems.append(
                    Problem(row_number, serial_column, _("serial number already registered for this manufacturer"))
                )
            else:
                yield device | {"row_number": row_number}
        pending.clear()

    for row_number, cells in sheet.rows:
        outcome.rows += 1
        outcome.note_samples(cells)
        if outcome.rows > max_rows:
            outcome.problems.append(
                Problem(
                    row_number,
                    "-",
                    _("the file has more than %(max)d rows; split it in several files") % {"max": max_rows},
                )
            )
            outcome.rows -= 1
            break
        device, problems = cleaner.clean(row_number, cells)
        # Every row claims its serial, a refused one too, so each later copy is reported.
        serial = cleaner.raw_value("serial_number", cells)
        if serial:
            first = first_row_of_serial.setdefault("".join(serial.split()).casefold(), row_number)
            if first != row_number:
                problems.append(
                    Problem(row_number, serial_column, _("serial number also on row %(row)d") % {"row": first})
                )
        if problems:
            outcome.problems.extend(problems)
        else:
            pending.append((row_number, device))
            if len(pending) >= EXISTING_CHECK_CHUNK:
                yield from flush()
        if progress is not None and outcome.rows % PROGRESS_EVERY == 0:
            progress(outcome.rows)
    if pending:
        yield from flush()
    if progress is not None:
        progress(outcome.rows)


def donation_import_spreadsheet(
    *,
    donation: Donation | None,
    actor: AbstractBaseUser | None,
    file: IO[bytes],
    filename: str = "",
    mapping: list[str | None] | None = None,
    defaults: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    create_donation: Callable[[], Donation] | None = None,
) -> ImportOutcome:
    """Register every row of an asset list as a pledged device of the donation, or nothing at all.

    The file is streamed; each row is cleaned and checked (serial present, unique in the file and not yet
    registered; a known category; readable numbers) and written in chunks inside one transaction. Any problem
    rolls the whole import back, and the outcome lists every problem with its row, column and reason.
    ``mapping`` overrides the matched field of each column (None to ignore a column); ``defaults`` fills a
    field the file lacks or leaves empty (``category=laptop``). ``dry_run`` checks without writing.
    ``create_donation`` (instead of ``donation``) makes the donation inside the same transaction, for a pledge
    made from a spreadsheet. Raises DonationError for a file that cannot be read at all.
    """
    defaults = {name: value for name, value in (defaults or {}).items() if str(value).strip()}
    unknown = set(defaults) - set(IMPORT_FIELDS)
    if unknown:
        raise DonationError(
            _("%(fields)s: not a device field. Use one of: %(known)s.")
            % {"fields": ", ".join(sorted(unknown)), "known": ", ".join(IMPORT_FIELDS)}
        )
    if donation is not None:
        check_editable(donation)
    try:
        sheet = open_sheet(file, filename=filename)
    except SpreadsheetError as exc:
        raise DonationError(str(exc)) from exc
    try:
        headers = sheet.headers
        if mapping is None:
            mapping = match_headers(headers)
        mapping = [(name or None) for name in mapping][: len(headers)]
        mapping += [None] * (len(headers) - len(mapping))
        outcome = ImportOutcome(headers=headers, mapping=mapping)
        cleaner = RowCleaner(headers=headers, mapping=mapping, defaults=defaults)
        for name in ("serial_number", "manufacturer"):
            if name not in cleaner.columns and name not in defaults:
                outcome.problems.append(
                    Problem(
                        sheet.header_row,
                        str(IMPORT_FIELDS[name]),
                        _("no column holds the %(field)s; choose it in the mapping") % {"field": IMPORT_FIELDS[name]},
                    )
                )
        if outcome.problems:
            # Still say how many rows the file has, so the person recognises it while fixing the mapping.
            for _row_number, cells in sheet.rows:
                outcome.rows += 1
                outcome.note_samples(cells)
            return outcome
        # A dry run asks which serials are registered a chunk at a time; an import lets the writer find them
        # among the rows it has written (one query on PostgreSQL), and reports them the same way.
        rows = _validated_rows(
            sheet=sheet, cleaner=cleaner, outcome=outcome, progress=progress, check_registered=dry_run
        )
        if dry_run:
            for device in rows:
                outcome.note_device(device)
        else:
            try:
                with transaction.atomic():
                    target = donation if donation is not None else create_donation()
                    outcome.imported = device_register_stream(donation=target, hub=target.hub, actor=actor, rows=rows)
                    if outcome.problems:
                        raise _ImportRefused
                    outcome.donation = target
                    donation_change_record(
                        donation=target,
                        actor=actor,
                        kind="devices_imported",
                        changes={"count": outcome.imported, "file": filename[-120:]},
                    )
            except _ImportRefused:
                outcome.imported = 0
                outcome.donation = None
            except DevicesAlreadyRegistered as exc:
                outcome.imported = 0
                outcome.donation = None
                serial_column = cleaner.column_label("serial_number")
                reason = _("serial number already registered for this manufacturer")
                outcome.problems.extend(Problem(row, serial_column, reason) for row in exc.row_numbers)
            except IntegrityError:  # a device registered by someone else while we imported
                outcome.imported = 0
                outcome.problems.append(
                    Problem(
                        sheet.header_row,
                        cleaner.column_label("serial_number"),
                        _("a serial number of this file was registered by someone else meanwhile; import again"),
                    )
                )
        outcome.problems.sort(key=lambda problem: problem.row)
        return outcome
    except SpreadsheetError as exc:  # found part-way through the file; the transaction has rolled back
        raise DonationError(str(exc)) from exc
    finally:
        sheet.close()


# --- spreadsheet imports on the donor pages (upload, check, queue, run) -------------------------------------

PROBLEMS_KEPT = 500  # shown on the page; the count says how many more there are
PROGRESS_KEY = "donations:import:{id}:done"
PROGRESS_SECONDS = 6 * 60 * 60


def _store_check(spreadsheet_import: SpreadsheetImport, outcome: ImportOutcome) -> None:
    spreadsheet_import.headers = outcome.headers
    spreadsheet_import.mapping = outcome.mapping
    spreadsheet_import.total_rows = outcome.rows
    spreadsheet_import.problems = [p.as_dict() for p in outcome.problems[:PROBLEMS_KEPT]]
    spreadsheet_import.problem_count = len(outcome.problems)
    spreadsheet_import.preview = {
        "samples": outcome.samples,
        "rows": outcome.preview,
        "devices": sum(outcome.by_category.values()),
        "by_category": outcome.by_category,
        "with_storage": outcome.with_storage,
    }


def spreadsheet_import_create(
    *,
    donor: Donor,
    donation: Donation | None,
    actor: AbstractBaseUser,
    filename: str,
    content: bytes,
    pledge: Mapping[str, Any] | None = None,
) -> SpreadsheetImport:
    """Keep an uploaded asset list and check every row, writing no device; raises DonationError if unreadable.

    ``donation`` is the pledge the devices join; without it ``pledge`` holds the new donation's details
    (hub_id, pickup_address, pickup_date, notes), and the donation is created with the devices.
    """
    outcome = donation_import_spreadsheet(
        donation=donation, actor=actor, file=io.BytesIO(content), filename=filename, dry_run=True
    )
    spreadsheet_import = SpreadsheetImport(
        donor=donor,
        donation=donation,
        pledge=dict(pledge or {}),
        filename=filename[-200:],
        content=content,
        size=len(content),
        created_by=actor,
    )
    _store_check(spreadsheet_import, outcome)
    spreadsheet_import.save()
    return spreadsheet_import


def spreadsheet_import_check(*, spreadsheet_import: SpreadsheetImport, mapping: list[str | None]) -> SpreadsheetImport:
    """Check the file again with the person's corrected column mapping."""
    if spreadsheet_import.status != SpreadsheetImport.Status.UPLOADED:
        raise DonationError(_("This file has already been imported or is being imported."))
    outcome = donation_import_spreadsheet(
        donation=spreadsheet_import.donation,
        actor=spreadsheet_import.created_by,
        file=io.BytesIO(bytes(spreadsheet_import.content)),
        filename=spreadsheet_import.filename,
        mapping=mapping,
        dry_run=True,
    )
    _store_check(spreadsheet_import, outcome)
    spreadsheet_import.save(update_fields=["headers", "mapping", "total_rows", "problems", "problem_count", "preview"])
    return spreadsheet_import


def spreadsheet_import_queue(*, spreadsheet_import: SpreadsheetImport) -> SpreadsheetImport:
    """Start the import of a checked file with no problems: a Celery task after commit (in-process when eager)."""
    from donations.tasks import spreadsheet_import_run as run_task

    with transaction.atomic():
        locked = SpreadsheetImport.objects.select_for_update().get(pk=spreadsheet_import.pk)
        if locked.status != SpreadsheetImport.Status.UPLOADED:
            return locked  # a second click, or a reload of the form: one import only
        if locked.problem_count:
            raise DonationError(_("Fix the problems listed before importing."))
        locked.status = SpreadsheetImport.Status.QUEUED
        locked.save(update_fields=["status"])
        cache.set(PROGRESS_KEY.format(id=locked.pk), 0, timeout=PROGRESS_SECONDS)
        transaction.on_commit(lambda: run_task.delay(locked.pk))
    return locked


def spreadsheet_import_run(*, import_id: int) -> int:
    """Import a queued file, all rows or none, and record how it ended; safe to run twice (the second does nothing).

    The import row is locked for the whole run, so two workers given the same id cannot both import it; its
    final status commits with the devices. Progress goes to the cache, which the person's page polls: it is
    outside the transaction, so it shows while the devices are still invisible to everyone else.
    """
    key = PROGRESS_KEY.format(id=import_id)

    def progress(done: int) -> None:
        cache.set(key, done, timeout=PROGRESS_SECONDS)

    try:
        with transaction.atomic():
            locked = (
                SpreadsheetImport.objects.select_for_update(of=("self",))
                .select_related("donation", "donor")
                .get(pk=import_id)
            )
            if locked.status not in (SpreadsheetImport.Status.QUEUED, SpreadsheetImport.Status.RUNNING):
                return locked.imported
            create_donation = None
            if locked.donation is None:
                pledge = locked.pledge

                def create_donation() -> Donation:
                    return donation_create(
                        donor=locked.donor,
                        hub=Hub.objects.get(pk=pledge["hub_id"]),
                        pickup_address=pledge.get("pickup_address", ""),
                        pickup_date=date.fromisoformat(pledge["pickup_date"]) if pledge.get("pickup_date") else None,
                        notes=pledge.get("notes", ""),
                        actor=locked.created_by,
                    )

            outcome = donation_import_spreadsheet(
                donation=locked.donation,
                create_donation=create_donation,
                actor=locked.created_by,
                file=io.BytesIO(bytes(locked.content)),
                filename=locked.filename,
                mapping=locked.mapping,
                progress=progress,
            )
            _store_check(locked, outcome)
            locked.finished_at = timezone.now()
            if outcome.ok:
                locked.status = SpreadsheetImport.Status.DONE
                locked.imported = outcome.imported
                locked.donation = outcome.donation
                locked.content = b""  # the devices hold the data now; the donor's file need not stay
            else:
                locked.status = SpreadsheetImport.Status.FAILED
            locked.save()
    except DonationError as exc:
        _import_failed(import_id, str(exc))
        return 0
    except Exception:
        logger.exception("spreadsheet import %s stopped", import_id)
        _import_failed(import_id, _("The import stopped unexpectedly; nothing was imported. Try again."))
        return 0
    return outcome.imported


def _import_failed(import_id: int, message: str) -> None:
    SpreadsheetImport.objects.filter(pk=import_id).exclude(status=SpreadsheetImport.Status.DONE).update(
        status=SpreadsheetImport.Status.FAILED, error=message, finished_at=timezone.now()
    )


def spreadsheet_import_progress(*, spreadsheet_import: SpreadsheetImport) -> dict[str, Any]:
    """What the progress bar shows: rows done of the total, the status, and where to go when it is over."""
    done = cache.get(PROGRESS_KEY.format(id=spreadsheet_import.pk)) or 0
    total = spreadsheet_import.total_rows
    finished = spreadsheet_import.status in (SpreadsheetImport.Status.DONE, SpreadsheetImport.Status.FAILED)
    if spreadsheet_import.status == SpreadsheetImport.Status.DONE:
        done = total
    done = min(done, total)
    return {
        "status": spreadsheet_import.status,
        "status_label": str(spreadsheet_import.get_status_display()),
        "finished": finished,
        "done": done,
        "total": total,
        "percent": 100 if total == 0 and finished else (round(100 * done / total) if total else 0),
        "imported": spreadsheet_import.imported,
        "problem_count": spreadsheet_import.problem_count,
        "error": spreadsheet_import.error,
        "donation": spreadsheet_import.donation.reference if spreadsheet_import.donation_id else "",
    }
