"""Donor sign-up and pledges. Devices are registered through the core's service."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

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
from refurbishing.selectors import device_counts_by_state, device_list_for_donation
from refurbishing.services import device_register_many

from .models import Donation, Donor


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
