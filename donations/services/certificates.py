"""Donations' services: certificates."""

import base64
import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from donations.models import Certificate, Donation
from donations.notifications import donation_certificate_ready_notify
from donations.selectors import (
    certificate_current,
    certificate_pending_devices,
    certificate_rows_for_donation,
    recycling_rows_for_donation,
)
from refurbishing.hardware.sampling import (
    devices_awaiting_rewipe,
    wipe_sample_pick,
    wipe_sample_rows,
)
from refurbishing.models import WipeSample

from .common import CERTIFICATE_PREFIX, DonationError

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
        rows, waiting = _sanitisation_rows_once_sampled(donation)
        if waiting is None:
            return _certificate_create(donation=donation, kind=Certificate.Kind.SANITISATION, rows=rows, actor=actor)
    # Outside the transaction: the sample just drawn stays drawn while the certificate waits for it.
    raise CertificatePending(waiting)


def _sanitisation_pending(donation: Donation) -> list:
    pending = certificate_pending_devices(donation)
    known = {device.pk for device in pending}
    pending += [device for device in devices_awaiting_rewipe(donation_id=donation.pk) if device.pk not in known]
    return pending


def _sanitisation_rows_once_sampled(donation: Donation) -> tuple[list[dict[str, Any]], str | None]:
    """The certificate's rows once every device is wiped and the lot's wipe sample passed, each sampled medium's
    row naming who re-verified it, and None; or the rows and why the certificate waits for the sample. Raises
    ``CertificatePending`` while devices are not wiped. Draws the sample when the lot is complete (the caller
    locked the donation's row)."""
    pending = _sanitisation_pending(donation)
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
    sample = wipe_sample_pick(donation_id=donation.pk, hub_id=donation.hub_id)
    rows = certificate_rows_for_donation(donation)
    if sample is None:
        return rows, None
    if sample.status != WipeSample.Status.PASSED:
        remaining = sample.items.filter(result="pending").count()
        return rows, (
            ngettext(
                "The certificate waits for the wipe verification sample: %(count)d medium is still to re-verify.",
                "The certificate waits for the wipe verification sample: %(count)d media are still to re-verify.",
                remaining,
            )
            % {"count": remaining}
        )
    quoted = wipe_sample_rows(sample)
    summary = {key: value for key, value in quoted.items() if key != "items"}
    items = {(item["device_id"], item["media_serial"]): item for item in quoted["items"]}
    for row in rows:
        item = items.get((row["device_id"], row.get("media_serial") or ""))
        if item is not None:
            row["wipe_sample"] = summary
            row["re_verified_by"] = item["verified_by"]
            row["re_verified_at"] = item["verified_at"]
    return rows, None


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
            rows, waiting = _sanitisation_rows_once_sampled(donation)
            if waiting is not None:
                raise CertificatePending(waiting)
        else:
            rows = recycling_rows_for_donation(donation)
        return _certificate_create(
            donation=donation, kind=certificate.kind, rows=rows, actor=actor, supersedes=certificate, reason=reason
        )
