"""Donor sign-up and pledges. Devices are registered through the core's service."""

import base64
import secrets
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
from django.utils.translation import ngettext

from hubs.models import Hub
from hubs.selectors import user_language
from refurbishing.errors import LifecycleError
from refurbishing.models import DeviceState
from refurbishing.selectors import device_counts_by_state, device_list_for_donation
from refurbishing.services import device_register_many

from .models import Certificate, Donation, Donor
from .selectors import (
    certificate_current,
    certificate_pending_devices,
    certificate_rows_for_donation,
    recycling_rows_for_donation,
)

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
    return Certificate.objects.create(
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
