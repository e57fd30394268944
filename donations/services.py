"""Donor sign-up and pledges. Devices are registered through the core's service."""

import base64
import io
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hubs.accounts import (
    AccountError,
    account_create,
    email_is_verified,
    invitation_create,
    invitation_pending_list,
    invitation_revoke,
)
from hubs.models import Hub, Invitation
from hubs.selectors import restrict_to_user_hubs, user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceState
from refurbishing.selectors import (
    device_code_condition,
    device_counts_by_state,
    device_donation_has_arrivals,
    device_find_by_code,
    device_list_for_donation,
    device_list_unexpected_in_donation,
    device_registered_serials,
)
from refurbishing.services import (
    DevicesAlreadyRegistered,
    device_register_many,
    device_register_stream,
    device_transition,
)

from .imports.spreadsheet import (
    IMPORT_FIELDS,
    Problem,
    RowCleaner,
    SpreadsheetError,
    match_headers,
    open_sheet,
    storage_default,
)
from .models import Certificate, Donation, DonationChange, Donor, SpreadsheetImport
from .notifications import donation_certificate_ready_notify
from .selectors import (
    certificate_current,
    certificate_pending_devices,
    certificate_rows_for_donation,
    recycling_rows_for_donation,
)

logger = logging.getLogger(__name__)

DONOR_INVITATION = "donor"


CERTIFICATE_PREFIX = "CTG-"


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
    email: str,
    password: str | None,
    contact_name: str = "",
    contact_phone: str = "",
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Donor, AbstractBaseUser]:
    """Register a donor organisation and its first user, both or neither.

    The user signs in with the e-mail address (one account per address); ``username`` is only for accounts
    people already know by name (the demo's). The address still has to be verified before the first pledge.
    """
    with transaction.atomic():
        donor = Donor.objects.create(
            legal_name=legal_name,
            registration_number=normalise_registration_number(registration_number),
            country=country.upper(),
            address=address,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        try:
            user = account_create(
                email=email, password=password, first_name=first_name, last_name=last_name, username=username
            )
        except AccountError as exc:
            raise DonationError(str(exc)) from exc
        donor.users.add(user)
    return donor, user


def donor_user_may_pledge(*, user: AbstractBaseUser) -> bool:
    """A donor's user pledges once their e-mail address is verified (the hub must be able to reach them)."""
    return email_is_verified(user=user)


def donor_invite_colleague(*, donor: Donor, actor: AbstractBaseUser, email: str, request=None) -> Invitation:
    """E-mail a colleague a link to join the organisation; they choose their password on accepting."""
    if not donor.users.filter(pk=actor.pk).exists():
        raise DonationError(_("Only the organisation's own users can invite colleagues."))
    if donor.users.filter(email__iexact=email.strip()).exists():
        raise DonationError(_("%(email)s is already a user of %(org)s.") % {"email": email, "org": donor.legal_name})
    return invitation_create(kind=DONOR_INVITATION, target_id=donor.pk, email=email, invited_by=actor, request=request)


def donor_member_remove(*, donor: Donor, actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """Take a user off the organisation: they no longer see its donations. The last user cannot leave."""
    with transaction.atomic():
        locked = Donor.objects.select_for_update().get(pk=donor.pk)
        members = set(locked.users.values_list("pk", flat=True))
        if actor.pk not in members or user.pk not in members:
            raise DonationError(_("Only the organisation's own users can remove its users."))
        if members == {user.pk}:
            raise DonationError(
                _(
                    "You are the organisation's last user: invite a colleague before you leave, "
                    "so someone can follow its donations."
                )
            )
        locked.users.remove(user)


def donor_invitation_revoke(*, donor: Donor, actor: AbstractBaseUser, invitation_id: int) -> None:
    if not donor.users.filter(pk=actor.pk).exists():
        raise DonationError(_("Only the organisation's own users can withdraw its invitations."))
    invitation = invitation_pending_list(kind=DONOR_INVITATION, target_id=donor.pk).filter(pk=invitation_id).first()
    if invitation is None:
        raise DonationError(_("This invitation was already accepted or withdrawn."))
    invitation_revoke(invitation=invitation)


def donor_invitation_accept(invitation: Invitation, user: AbstractBaseUser) -> None:
    """What accepting a "donor" invitation does (registered with hubs.accounts in the app's ready())."""
    Donor.objects.get(pk=invitation.target_id).users.add(user)


def donor_describe(donor_id: int) -> str:
    return Donor.objects.filter(pk=donor_id).values_list("legal_name", flat=True).first() or ""


def _next_reference(donation: Donation) -> str:
    return f"DON-{donation.pledged_at:%Y}-{donation.pk:06d}"


def _with_storage_default(row: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(row)
    if row.get("has_storage_media") is None:
        row["has_storage_media"] = storage_default(row.get("category", ""))
    return row


def donation_create(
    *,
    donor: Donor,
    hub: Hub,
    pickup_address: str,
    actor: AbstractBaseUser | None,
    pickup_date=None,
    notes: str = "",
) -> Donation:
    """A donation with no devices yet; the caller adds them in the same transaction (a pledge needs some)."""
    if not hub.active:
        raise DonationError(_("%(hub)s does not take donations at the moment; choose another hub.") % {"hub": hub.name})
    if pickup_date and pickup_date < timezone.localdate():
        raise DonationError(_("The pickup date cannot be in the past: choose today or a later date."))
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
    return donation


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
    rows = [_with_storage_default(row) for row in rows]
    if not rows:
        raise DonationError(_("A donation needs at least one device."))
    try:
        with transaction.atomic():
            donation = donation_create(
                donor=donor, hub=hub, pickup_address=pickup_address, pickup_date=pickup_date, notes=notes, actor=actor
            )
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
        raise DonationError(_("The pickup date cannot be in the past: choose today or a later date."))
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

    Idempotent: the status changes (and the e-mail is queued) only on the first call that finds nothing awaited;
    the e-mail itself is sent once whatever happens to its task (donations.notifications).
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
        # The message counts the devices itself, once sent: it goes out once, from a task, after commit.
        from .notifications import DonorNotification
        from .tasks import donation_notify

        transaction.on_commit(lambda: donation_notify.delay(donation_id, DonorNotification.ARRIVED.value))
    return True


# Check-in: a technician scans what arrived of a donation, then closes it.


class CheckInOutcome:
    RECEIVED = "received"
    UNEXPECTED = "unexpected"
    ALREADY_RECEIVED = "already_received"


@dataclass(frozen=True)
class CheckInResult:
    outcome: str
    device: Device
    message: str


@dataclass(frozen=True)
class CheckInSummary:
    expected: int
    received: int
    unexpected: int
    missing: int
    awaited: int


def donation_for_check_in(*, user: AbstractBaseUser, reference: str) -> Donation:
    """A donation being received at one of the user's hubs; ``Donation.DoesNotExist`` for any other."""
    queryset = restrict_to_user_hubs(Donation.objects.select_related("hub", "donor"), user=user)
    return queryset.get(reference=reference.strip())


def donation_check_in_summary(*, donation: Donation) -> CheckInSummary:
    counts = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk))
    total = sum(counts.values())
    unexpected = device_list_unexpected_in_donation(donation_id=donation.pk).count()
    missing = counts.get(DeviceState.MISSING, 0)
    awaited = counts.get(DeviceState.PLEDGED, 0)
    return CheckInSummary(
        expected=total - unexpected,
        received=total - missing - awaited,
        unexpected=unexpected,
        missing=missing,
        awaited=awaited,
    )


def _device_of_donation(*, donation: Donation, code: str) -> Device | None:
    matches = list(device_list_for_donation(donation_id=donation.pk).filter(device_code_condition(code))[:2])
    return matches[0] if matches else None


def donation_check_in_scan(
    *,
    donation: Donation,
    actor: AbstractBaseUser,
    scan: str,
    category: str = "",
    manufacturer: str = "",
    model: str = "",
) -> CheckInResult:
    """Receive the device a scanned serial, asset tag or label names, as part of the donation's check-in.

    A pledged device of the donation is received; one already received is reported and left alone; a code the
    donation does not know adds a device to it (category and make needed) and receives it, with an event that
    says it was not pledged. Every move goes through the lifecycle service, with its guards.
    """
    scan = scan.strip()
    if not scan:
        raise LifecycleError(_("Scan or type a serial number, asset tag or label code."), field_errors={"scan": []})
    if not user_can_act_in_hub(user=actor, hub_id=donation.hub_id):
        raise LifecycleError(
            _("%(reference)s is received at a hub you do not work at.") % {"reference": donation.reference},
            code="forbidden",
        )
    note = _("Checked in with donation %(reference)s.") % {"reference": donation.reference}
    device = _device_of_donation(donation=donation, code=scan)
    if device is not None:
        return _check_in_known(donation=donation, device=device, actor=actor, note=note)

    elsewhere = device_find_by_code(user=actor, code=scan)
    if elsewhere:
        raise LifecycleError(
            _("%(device)s belongs to donation %(other)s, not %(reference)s.")
            % {"device": elsewhere[0], "other": elsewhere[0].donation.reference, "reference": donation.reference}
        )
    missing = {}
    if not category:
        missing["category"] = [_("Choose the category of the device that was not pledged.")]
    elif category not in Device.Category.values:
        missing["category"] = [_("Choose one of the categories offered.")]
    if not manufacturer.strip():
        missing["manufacturer"] = [_("Enter the make of the device that was not pledged.")]
    if missing:
        raise LifecycleError(
            _("%(scan)s is not on donation %(reference)s. To add it, give its category, make and model.")
            % {"scan": scan, "reference": donation.reference},
            code="unknown",
            field_errors=missing,
        )
    try:
        with transaction.atomic():
            (device,) = device_register_many(
                donation=donation,
                hub=donation.hub,
                actor=actor,
                rows=[
                    {
                        "category": category,
                        "manufacturer": manufacturer.strip(),
                        "model": model.strip(),
                        "serial_number": scan,
                    }
                ],
            )
            device = device_transition(
                device=device,
                action="receive",
                actor=actor,
                note=_("Not on the pledge: found in donation %(reference)s at check-in and added to it.")
                % {"reference": donation.reference},
                data={"check_in": donation.reference, "unexpected": True},
            )
    except IntegrityError:
        # Someone added the same serial a moment ago: it is known now.
        device = _device_of_donation(donation=donation, code=scan)
        if device is None:
            raise LifecycleError(
                _("A %(make)s device with serial number %(scan)s is already registered with another donation.")
                % {"make": manufacturer.strip(), "scan": scan}
            ) from None
        return _check_in_known(donation=donation, device=device, actor=actor, note=note)
    return CheckInResult(
        CheckInOutcome.UNEXPECTED,
        device,
        _("%(device)s was not pledged: added to %(reference)s and received.")
        % {"device": device, "reference": donation.reference},
    )


def _check_in_known(*, donation: Donation, device: Device, actor: AbstractBaseUser, note: str) -> CheckInResult:
    if device.state == DeviceState.MISSING:
        raise LifecycleError(
            _("%(device)s was marked missing when the check-in closed. Record its arrival in the admin.")
            % {"device": device}
        )
    if device.state != DeviceState.PLEDGED:
        return CheckInResult(
            CheckInOutcome.ALREADY_RECEIVED, device, _("%(device)s was already received.") % {"device": device}
        )
    try:
        device = device_transition(
            device=device, action="receive", actor=actor, note=note, data={"check_in": donation.reference}
        )
    except LifecycleError as error:
        if error.code != "conflict":
            raise
        device.refresh_from_db()
        if device.state == DeviceState.PLEDGED:
            raise
        return CheckInResult(
            CheckInOutcome.ALREADY_RECEIVED, device, _("%(device)s was already received.") % {"device": device}
        )
    return CheckInResult(CheckInOutcome.RECEIVED, device, _("%(device)s received.") % {"device": device})


def donation_check_in_close(*, donation: Donation, actor: AbstractBaseUser) -> CheckInSummary:
    """End the check-in: every pledged device that did not arrive is marked missing (the donor sees it)."""
    if not user_can_act_in_hub(user=actor, hub_id=donation.hub_id):
        raise LifecycleError(
            _("%(reference)s is received at a hub you do not work at.") % {"reference": donation.reference},
            code="forbidden",
        )
    note = _("Never arrived: marked missing when the check-in of %(reference)s closed.") % {
        "reference": donation.reference
    }
    awaited = device_list_for_donation(donation_id=donation.pk).filter(state=DeviceState.PLEDGED)
    for device in awaited:
        try:
            device_transition(
                device=device, action="mark_missing", actor=actor, note=note, data={"check_in": donation.reference}
            )
        except LifecycleError as error:
            if error.code != "conflict":  # received by someone else meanwhile: it arrived after all
                raise
    return donation_check_in_summary(donation=donation)


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
            # Still say how many rows the file has, so the person recognises it while fixing the mapping.
            outcome.rows = sum(1 for _row in sheet.rows)
            return outcome
        # A dry run asks which serials are registered a chunk at a time; an import lets the writer find them
        # among the rows it has written (one query on PostgreSQL), and reports them the same way.
        rows = _validated_rows(
            sheet=sheet, cleaner=cleaner, outcome=outcome, progress=progress, check_registered=dry_run
        )
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
    spreadsheet_import.save(update_fields=["headers", "mapping", "total_rows", "problems", "problem_count"])
    return spreadsheet_import


def spreadsheet_import_queue(*, spreadsheet_import: SpreadsheetImport) -> SpreadsheetImport:
    """Start the import of a checked file with no problems: a Celery task after commit (in-process when eager)."""
    from .tasks import spreadsheet_import_run as run_task

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


# --- Certificates ------------------------------------------------------------------------------------------------


class CertificatePending(DonationError):
    """The certificate cannot be issued yet; ``pending`` lists the devices that hold it up."""

    def __init__(self, message: str, *, pending: list | None = None) -> None:
        super().__init__(message)
        self.pending = pending or []


def certificate_number_new() -> str:
    """A fresh certificate number: ``CTG-`` and 80 random bits in base32, e.g. ``CTG-7Q2M-XK4D-PA9R-L3VB``.

    Random, not sequential, so that nobody can find another donor's certificate by counting.
    """
    body = base64.b32encode(secrets.token_bytes(10)).decode()
    return CERTIFICATE_PREFIX + "-".join(body[i : i + 4] for i in range(0, len(body), 4))


def _certificate_create(
    *,
    donation: Donation,
    kind: str,
    rows: list[dict[str, Any]],
    actor: AbstractBaseUser | None,
    supersedes: Certificate | None = None,
    reason: str = "",
) -> Certificate:
    certificate = Certificate.objects.create(
        number=certificate_number_new(),
        kind=kind,
        donation=donation,
        donor_name=donation.donor.legal_name,
        issued_at=timezone.now(),
        device_count=len({row["device_id"] for row in rows}),
        rows=rows,
        supersedes=supersedes,
        reason=reason,
        issued_by=actor,
    )
    if kind == Certificate.Kind.SANITISATION:
        # Every new number is news, a correction's too: the donor's users hear once, after this commits.
        donation_certificate_ready_notify(donation=donation, certificate_number=certificate.number)
    return certificate


def _locked(donation: Donation) -> Donation:
    return Donation.objects.select_for_update().select_related("donor").get(pk=donation.pk)


def donation_certificate_issue(*, donation: Donation, actor: AbstractBaseUser | None = None) -> Certificate:
    """The donation's data sanitisation certificate: the one already issued, or a new one if the donation is ready.

    Ready means every storage-bearing device of the donation has arrived (or was marked missing) and is wiped or
    recycled. Otherwise raises ``CertificatePending`` listing what is pending. Idempotent: two calls, even at the
    same time, issue one certificate (the donation's row is locked, and the database allows one first certificate).
    """
    with transaction.atomic():
        donation = _locked(donation)
        current = certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION)
        if current is not None:
            return current
        pending = certificate_pending_devices(donation)
        if pending:
            raise CertificatePending(
                ngettext(
                    "%(count)d device with storage media is not yet wiped.",
                    "%(count)d devices with storage media are not yet wiped.",
                    len(pending),
                )
                % {"count": len(pending)},
                pending=pending,
            )
        return _certificate_create(
            donation=donation,
            kind=Certificate.Kind.SANITISATION,
            rows=certificate_rows_for_donation(donation),
            actor=actor,
        )


def donation_certificate_issue_if_ready(*, donation_id: int) -> Certificate | None:
    """Issue the donation's sanitisation certificate as soon as it is ready; None while it is not.

    The one place a new certificate comes from after a device moves (``donations.tasks``): this is where the
    donor's users are told that the certificate is ready, once, after commit.
    """
    donation = Donation.objects.get(pk=donation_id)
    if certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION) is not None:
        return None  # issued before: nothing new to tell
    try:
        certificate = donation_certificate_issue(donation=donation)
    except CertificatePending:
        return None
    # "Certificate ready": the single place to tell the donor's users, queued after commit (not wired yet).
    return certificate


def donation_recycling_certificate_issue(*, donation: Donation, actor: AbstractBaseUser | None = None) -> Certificate:
    """The donation's recycling certificate listing every recycled device with its weight.

    Issued once recycled devices exist; when more are recycled later, a new certificate supersedes the previous
    one (which stays as it was). Raises ``CertificatePending`` while no device of the donation is recycled.
    """
    with transaction.atomic():
        donation = _locked(donation)
        rows = recycling_rows_for_donation(donation)
        if not rows:
            raise CertificatePending(_("No device of this donation has been recycled yet."))
        current = certificate_current(donation=donation, kind=Certificate.Kind.RECYCLING)
        if current is not None and {r["device_id"] for r in current.rows} == {r["device_id"] for r in rows}:
            return current
        return _certificate_create(
            donation=donation,
            kind=Certificate.Kind.RECYCLING,
            rows=rows,
            actor=actor,
            supersedes=current,
            reason=_("More devices were recycled.") if current is not None else "",
        )


def certificate_reissue(*, certificate: Certificate, actor: AbstractBaseUser | None, reason: str) -> Certificate:
    """Correct a certificate: issue a new one from the records as they are now, superseding this one.

    The old certificate stays exactly as issued; its verification page then says it was superseded.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DonationError(_("Say why the certificate is reissued; the reason is kept with the new certificate."))
    with transaction.atomic():
        donation = _locked(certificate.donation)
        certificate = Certificate.objects.get(pk=certificate.pk)
        if Certificate.objects.filter(supersedes=certificate).exists():
            raise DonationError(
                _("Certificate %(number)s was already superseded; correct the current one instead.")
                % {"number": certificate.number}
            )
        if certificate.kind == Certificate.Kind.SANITISATION:
            pending = certificate_pending_devices(donation)
            if pending:
                raise CertificatePending(_("Some devices with storage media are not yet wiped."), pending=pending)
            rows = certificate_rows_for_donation(donation)
        else:
            rows = recycling_rows_for_donation(donation)
        return _certificate_create(
            donation=donation, kind=certificate.kind, rows=rows, actor=actor, supersedes=certificate, reason=reason
        )
