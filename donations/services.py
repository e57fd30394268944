"""Donor sign-up and pledges. Devices are registered through the core's service."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
    device_find_by_code,
    device_list_for_donation,
    device_list_unexpected_in_donation,
)
from refurbishing.services import device_register_many, device_transition

from .models import Donation, Donor

DONOR_INVITATION = "donor"


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
