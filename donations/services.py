"""Donor sign-up and pledges. Devices are registered through the core's service."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import user_language
from refurbishing.errors import LifecycleError
from refurbishing.models import DeviceState
from refurbishing.selectors import (
    device_counts_by_state,
    device_donation_has_arrivals,
    device_list_for_donation,
    device_registered_serials,
)
from refurbishing.services import device_register_many, device_register_stream, device_transition

from .models import Donation, DonationChange, Donor
from .spreadsheet import IMPORT_FIELDS, Problem, RowCleaner, SpreadsheetError, match_headers, open_sheet


class DonationError(Exception):
    """A donor-side request that cannot be carried out, with a message the donor can act on."""


def normalise_registration_number(value: str) -> str:
    """Registration numbers are stored without spaces, in capitals; the sign-up form checks uniqueness on this."""
    return value.replace(" ", "").upper()


def donor_sign_up(
    *,
    legal_name: str,
    registration_number: str,
    country: str,
    address: str,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Donor, AbstractBaseUser]:
    """Register a donor organisation and its first user, both or neither."""
    User = get_user_model()
    with transaction.atomic():
        donor = Donor.objects.create(
            legal_name=legal_name,
            registration_number=normalise_registration_number(registration_number),
            country=country.upper(),
            address=address,
        )
        user = User.objects.create_user(
            username=username, email=email, password=password, first_name=first_name, last_name=last_name
        )
        donor.users.add(user)
    return donor, user


def _next_reference(donation: Donation) -> str:
    return f"DON-{donation.pledged_at:%Y}-{donation.pk:06d}"


def donation_pledge(
    *,
    donor: Donor,
    hub: Hub,
    pickup_address: str,
    rows: Iterable[Mapping[str, Any]],
    actor: AbstractBaseUser | None,
    pickup_date=None,
    notes: str = "",
) -> Donation:
    """Create a donation and register its devices as pledged; nothing is saved if any row is refused."""
    rows = list(rows)
    if not rows:
        raise DonationError(_("A donation needs at least one device."))
    if not hub.active:
        raise DonationError(_("%(hub)s does not take donations at the moment; choose another hub.") % {"hub": hub.name})
    try:
        with transaction.atomic():
            donation = Donation.objects.create(
                reference=f"PENDING-{timezone.now():%H%M%S%f}",
                donor=donor,
                hub=hub,
                pickup_address=pickup_address,
                pickup_date=pickup_date,
                notes=notes,
                created_by=actor,
            )
            donation.reference = _next_reference(donation)
            donation.save(update_fields=["reference"])
            device_register_many(donation=donation, hub=hub, actor=actor, rows=rows)
    except IntegrityError as exc:
        raise DonationError(
            _(
                "One of these devices is already registered (same manufacturer and serial number). "
                "Check the serial numbers and try again; nothing was saved."
            )
        ) from exc
    except LifecycleError as exc:
        raise DonationError(exc.message) from exc
    return donation


def donation_change_record(
    *, donation: Donation, actor: AbstractBaseUser | None, kind: str, changes: Mapping[str, Any]
) -> DonationChange:
    """Append one entry to the pledge's history (called inside the change's own transaction)."""
    return DonationChange.objects.create(donation=donation, actor=actor, kind=kind, changes=dict(changes))


EDITABLE_PLEDGE_FIELDS = ("pickup_address", "pickup_date", "notes")


def donation_update(*, donation: Donation, actor: AbstractBaseUser, fields: Mapping[str, Any]) -> Donation:
    """Change a pledge's pickup details until its first device is received; the change joins its history."""
    unknown = set(fields) - set(EDITABLE_PLEDGE_FIELDS)
    if unknown:
        raise DonationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    pickup_date = fields.get("pickup_date")
    if pickup_date and pickup_date < timezone.localdate():
        raise DonationError(_("The pickup date cannot be in the past."))
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        _check_editable(locked)
        changes = {}
        for name, value in fields.items():
            old = getattr(locked, name)
            if old != value:
                changes[name] = [_jsonable(old), _jsonable(value)]
                setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
            donation_change_record(donation=locked, actor=actor, kind=DonationChange.Kind.EDITED, changes=changes)
    return locked


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def donation_cancel(*, donation: Donation, actor: AbstractBaseUser, reason: str = "") -> Donation:
    """Cancel a pledge until its first device is received: its devices are marked as never arriving.

    Each device moves through the core's lifecycle service (``mark_missing``, with the reason as the event's
    note), so the chain of custody says what happened; the cancel joins the pledge's history.
    """
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        _check_editable(locked)
        locked.status = Donation.Status.CANCELLED
        locked.save(update_fields=["status"])
        note = _("Donation cancelled by the donor.") + (f" {reason}" if reason else "")
        for device in device_list_for_donation(donation_id=locked.pk).filter(state=DeviceState.PLEDGED):
            # The donor is not hub staff: the move is the system's, recorded with the donor's words.
            device_transition(device=device, action="mark_missing", actor=None, note=note)
        donation_change_record(
            donation=locked, actor=actor, kind=DonationChange.Kind.CANCELLED, changes={"reason": reason}
        )
    return locked


def donation_sync_status(*, donation_id: int) -> bool:
    """Mark a pledged donation received once none of its devices is still awaited; tell the donor once.

    Idempotent: the status changes (and the email goes) only on the first call that finds nothing awaited.
    Returns whether it changed.
    """
    with transaction.atomic():
        donation = Donation.objects.select_for_update().select_related("donor", "hub").get(pk=donation_id)
        if donation.status != Donation.Status.PLEDGED:
            return False
        counts = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk))
        if not counts or counts.get(DeviceState.PLEDGED, 0):
            return False
        donation.status = Donation.Status.RECEIVED
        donation.received_at = timezone.now()
        donation.save(update_fields=["status", "received_at"])
        received = sum(n for state, n in counts.items() if state != DeviceState.MISSING)
        missing = counts.get(DeviceState.MISSING, 0)
        recipients = [user for user in donation.donor.users.filter(is_active=True) if user.email]
        transaction.on_commit(
            lambda: _email_donation_received(donation=donation, received=received, missing=missing, to=recipients)
        )
    return True


def _email_donation_received(*, donation: Donation, received: int, missing: int, to: list[AbstractBaseUser]) -> None:
    """Tell the donor's users, each in the language of their profile (the site's default if they chose none)."""
    # Not the active language: this runs after a hub technician's move (or in a worker), not a donor's request.
    emails_by_language: dict[str, list[str]] = defaultdict(list)
    for user in to:
        emails_by_language[user_language(user=user) or settings.LANGUAGE_CODE].append(user.email)
    for language, emails in emails_by_language.items():
        with translation.override(language):
            lines = [
                _("Your donation %(reference)s has arrived at %(hub)s.")
                % {"reference": donation.reference, "hub": donation.hub.name},
                _("Devices received: %(count)d.") % {"count": received},
            ]
            if missing:
                lines.append(
                    _("Devices that never arrived: %(count)d. Reply to this email if you know where they are.")
                    % {"count": missing}
                )
            lines.append(_("Every device will now be wiped to NIST SP 800-88 before it goes anywhere."))
            lines.append(_("Follow each one in your donor portal."))
            send_mail(
                subject=_("%(reference)s: your devices have arrived") % {"reference": donation.reference},
                message="\n".join(lines),
                from_email=None,
                recipient_list=emails,
            )


# --- spreadsheet import ------------------------------------------------------------------------------------

PROGRESS_EVERY = 1000
EXISTING_CHECK_CHUNK = 2000


@dataclass
class ImportOutcome:
    """What an import (or its dry run) found: rows read, devices written, and every problem."""

    headers: list[str]
    mapping: list[str | None]
    rows: int = 0
    imported: int = 0
    problems: list[Problem] = field(default_factory=list)
    donation: Donation | None = None

    @property
    def unknown_columns(self) -> list[str]:
        return [header for header, name in zip(self.headers, self.mapping, strict=False) if header and not name]

    @property
    def ok(self) -> bool:
        return not self.problems


class _ImportRefused(Exception):
    """Raised inside the import's transaction to roll back everything written so far."""


def donation_is_editable(*, donation: Donation) -> bool:
    """A pledge changes (edit, cancel, more devices) only while nothing of it has arrived at the hub."""
    if donation.status != Donation.Status.PLEDGED:
        return False
    return not device_donation_has_arrivals(donation_id=donation.pk)


def _check_editable(donation: Donation) -> None:
    if donation.status == Donation.Status.CANCELLED:
        raise DonationError(_("Donation %(reference)s was cancelled.") % {"reference": donation.reference})
    if not donation_is_editable(donation=donation):
        raise DonationError(
            _("Donation %(reference)s can no longer change: its first devices have arrived at the hub.")
            % {"reference": donation.reference}
        )


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
) -> Iterator[dict[str, Any]]:
    """Clean every row, yielding devices while no problem has been found; problems go into the outcome.

    Serial numbers are compared without case or spaces within the file, and against the devices already
    registered (same serial, same manufacturer whatever its case) a chunk at a time.
    """
    first_row_of_serial: dict[str, int] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    serial_column = cleaner.column_label("serial_number")
    max_rows = settings.IMPORT_MAX_ROWS

    def flush() -> Iterator[dict[str, Any]]:
        serials = [device["serial_number"] for _row, device in pending]
        registered = {
            (manufacturer.casefold(), serial) for manufacturer, serial in device_registered_serials(serials=serials)
        }
        for row_number, device in pending:
            if (device["manufacturer"].casefold(), device["serial_number"]) in registered:
                outcome.problems.append(
                    Problem(row_number, serial_column, _("serial number already registered for this manufacturer"))
                )
            elif not outcome.problems:
                yield device
        pending.clear()

    for row_number, cells in sheet.rows:
        outcome.rows += 1
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
        serial = device["serial_number"] if device else ""
        if device:
            key = "".join(serial.split()).casefold()
            first = first_row_of_serial.setdefault(key, row_number)
            if first != row_number:
                problems.append(
                    Problem(row_number, serial_column, _("serial number also on row %(row)d") % {"row": first})
                )
        elif problems and not any(p.column == serial_column for p in problems):
            # A row refused for another reason still claims its serial, so a later copy is reported too.
            raw_index = cleaner.columns.get("serial_number")
            raw_serial = cells[raw_index].strip() if raw_index is not None and raw_index < len(cells) else ""
            if raw_serial:
                first_row_of_serial.setdefault("".join(raw_serial.split()).casefold(), row_number)
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
        _check_editable(donation)
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
            return outcome
        rows = _validated_rows(sheet=sheet, cleaner=cleaner, outcome=outcome, progress=progress)
        if dry_run:
            for _device in rows:
                pass
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
