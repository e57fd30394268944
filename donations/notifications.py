"""What donors are told as their devices move, each message sent once (hubs.accounts.notification_send_once).

The messages go out from Celery tasks queued after commit (donations.tasks), never from a request's
transaction. Each is keyed by donation and kind (and certificate number), so a task that runs twice, or two
workers running the same task at once, send it once. Each recipient reads it in their own language.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import TextChoices
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hubs.accounts import notification_send_once, site_url
from hubs.selectors import user_language
from refurbishing.models import DeviceState
from refurbishing.selectors import device_counts_by_state, device_list_for_donation

from .models import Donation, EResourceCommitment


class DonorNotification(TextChoices):
    PLEDGE_RECEIVED = "pledge_received", "the hub received the first devices of the pledge"
    ARRIVED = "arrived", "every device of the donation has arrived"
    CERTIFICATE_READY = "certificate_ready", "the data sanitisation certificate is ready"
    FIRST_DELIVERED = "first_delivered", "the first devices reached a project"


# Which committed moves can set off which message (the first such move of a donation sends it).
NOTIFICATION_AFTER_ACTION = {
    "receive": DonorNotification.PLEDGE_RECEIVED,
    "deliver": DonorNotification.FIRST_DELIVERED,
}


def notification_key(*, donation_id: int, kind: str, certificate_number: str = "") -> str:
    key = f"donation:{donation_id}:{kind}"
    return f"{key}:{certificate_number}" if certificate_number else key


def _recipients(donation: Donation) -> list[AbstractBaseUser]:
    return [user for user in donation.donor.users.filter(is_active=True).order_by("pk") if user.email]


def _portal_link(donation: Donation) -> str:
    return site_url(reverse("donations:detail", kwargs={"reference": donation.reference}))


def _message(donation: Donation, kind: str, certificate_number: str) -> tuple[str, list[str]]:
    """Subject and lines of one message, in the active language."""
    reference, hub = donation.reference, donation.hub.name
    if kind == DonorNotification.PLEDGE_RECEIVED:
        return (
            _("%(reference)s: the hub has received your devices") % {"reference": reference},
            [
                _("%(hub)s has received the first devices of your donation %(reference)s.")
                % {"hub": hub, "reference": reference},
                _("Every device will now be wiped to NIST SP 800-88 before it goes anywhere."),
            ],
        )
    if kind == DonorNotification.ARRIVED:
        counts = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk))
        missing = counts.get(DeviceState.MISSING, 0)
        received = sum(n for state, n in counts.items() if state not in (DeviceState.MISSING, DeviceState.PLEDGED))
        lines = [
            _("Your donation %(reference)s has arrived at %(hub)s.") % {"reference": reference, "hub": hub},
            _("Devices received: %(count)d.") % {"count": received},
        ]
        if missing:
            lines.append(
                _("Devices that never arrived: %(count)d. Reply to this email if you know where they are.")
                % {"count": missing}
            )
        lines.append(_("Every device will now be wiped to NIST SP 800-88 before it goes anywhere."))
        return _("%(reference)s: your devices have arrived") % {"reference": reference}, lines
    if kind == DonorNotification.CERTIFICATE_READY:
        return (
            _("%(reference)s: your data sanitisation certificate is ready") % {"reference": reference},
            [
                _(
                    "Every storage device of your donation %(reference)s that arrived is now wiped or recycled. "
                    "Certificate %(number)s proves it; download it from the donation's page."
                )
                % {"reference": reference, "number": certificate_number},
            ],
        )
    if kind == DonorNotification.FIRST_DELIVERED:
        delivered = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk)).get(
            DeviceState.DELIVERED, 0
        )
        return (
            _("%(reference)s: your first devices have reached a project") % {"reference": reference},
            [
                ngettext(
                    "%(count)d device of your donation %(reference)s has been delivered to a project.",
                    "%(count)d devices of your donation %(reference)s have been delivered to projects.",
                    delivered,
                )
                % {"count": delivered, "reference": reference},
                _("Thank you: they now serve a school, a clinic or an entrepreneur."),
            ],
        )
    raise ValueError(f"Unknown donor notification {kind!r}")


def _send_to_each(donation: Donation, kind: str, certificate_number: str) -> Callable[[], None]:
    def send() -> None:
        for user in _recipients(donation):
            # Not the active language: this runs in a worker, or after a technician's move.
            with translation.override(user_language(user=user) or settings.LANGUAGE_CODE):
                subject, lines = _message(donation, kind, certificate_number)
                lines.append(_("Follow each one in your donor portal."))
                lines.append(_portal_link(donation))
                send_mail(subject=subject, message="\n".join(lines), from_email=None, recipient_list=[user.email])

    return send


def donation_notify(*, donation_id: int, kind: str, certificate_number: str = "") -> bool:
    """Tell the donor's users about their donation, once per donation and kind; returns whether this call sent it."""
    if kind not in DonorNotification.values:
        raise ValueError(f"Unknown donor notification {kind!r}")
    donation = Donation.objects.select_related("donor", "hub").filter(pk=donation_id).first()
    if donation is None:
        return False
    key = notification_key(donation_id=donation_id, kind=kind, certificate_number=certificate_number)
    return notification_send_once(key=key, send=_send_to_each(donation, kind, certificate_number))


def donation_notify_after_transition(*, donation_id: int, action: str) -> bool:
    """A committed move of a donation's device: the first receipt, or the first delivery, is news."""
    kind = NOTIFICATION_AFTER_ACTION.get(action)
    if kind is None:
        return False
    return donation_notify(donation_id=donation_id, kind=kind)


def donation_certificate_ready_notify(*, donation: Donation, certificate_number: str) -> None:
    """Tell the donor their sanitisation certificate is issued, after the issuing transaction commits.

    Call it inside the transaction that issues the certificate; a certificate that supersedes another one
    (a new number) is news again.
    """
    from .tasks import donation_notify as donation_notify_task

    donation_id = donation.pk
    transaction.on_commit(
        lambda: donation_notify_task.delay(donation_id, DonorNotification.CERTIFICATE_READY.value, certificate_number)
    )


# e-Resource: a commitment is news once, when its last kilogram is allocated and its certificate number given.


def e_resource_covered_key(*, commitment_id: int) -> str:
    return f"e-resource:{commitment_id}:covered"


def _kilograms(value) -> str:
    """Kilograms in the reader's format: whole when they are, else with their two decimals."""
    places = 0 if value == value.to_integral_value() else 2
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def _e_resource_covered_message(commitment: EResourceCommitment) -> tuple[str, list[str]]:
    """Subject and lines of the message, in the active language."""
    number, kg = commitment.certificate_number, _kilograms(commitment.target_kg)
    return (
        _("Your e-Resource commitment is covered: certificate %(number)s") % {"number": number},
        [
            _(
                "The %(kg)s kg of e-waste %(donor)s committed to compensate have now been recycled responsibly in "
                "Africa, by downstream vendors certified for every waste stream they took."
            )
            % {"kg": kg, "donor": commitment.donor.legal_name},
            _("Thank you. Certificate %(number)s proves it; download it from your e-Resource page:")
            % {"number": number},
            site_url(reverse("donations:e-resource")),
            _("Anyone you show it to can check it here:"),
            site_url(reverse("certificate-verify", args=[number])),
        ],
    )


def e_resource_covered_notify(*, commitment_id: int) -> bool:
    """Tell the donor's users that a commitment is fully covered and its certificate issued, once per commitment,
    each in their own language; returns whether this call sent it."""
    commitment = (
        EResourceCommitment.objects.select_related("donor")
        .filter(pk=commitment_id, status=EResourceCommitment.Status.COVERED)
        .first()
    )
    if commitment is None:
        return False

    def send() -> None:
        for user in commitment.donor.users.filter(is_active=True).order_by("pk"):
            if not user.email:
                continue
            with translation.override(user_language(user=user) or settings.LANGUAGE_CODE):
                subject, lines = _e_resource_covered_message(commitment)
                send_mail(subject=subject, message="\n".join(lines), from_email=None, recipient_list=[user.email])

    return notification_send_once(key=e_resource_covered_key(commitment_id=commitment_id), send=send)


def e_resource_covered_notify_after_commit(*, commitment_ids: list[int]) -> None:
    """Queue the message for each commitment just covered, once the covering transaction commits (call it inside)."""
    from .tasks import e_resource_covered_notify as e_resource_covered_notify_task

    for commitment_id in commitment_ids:
        transaction.on_commit(lambda commitment_id=commitment_id: e_resource_covered_notify_task.delay(commitment_id))
