"""E-waste batches: devices beyond reuse gathered for a downstream vendor, recycled together when the batch closes.

Closing is a manager's act and the batch's dispatch. It is refused unless, that day, the vendor holds a valid
certificate for every waste stream the batch holds (``refurbishing.recycling.streams``): devices whose data is not
wiped go only to a vendor certified for whole data-bearing devices. It then moves every device of the batch to
``recycled`` through the lifecycle service (its guards, one event each carrying the device's share of the weighed
total) in one transaction: either the whole batch is recycled or nothing is, and the batch keeps the certificates
that covered it. The e-waste counters fold from those events, once each, like any move.

A vendor's certificate about to expire is told to the managers of the hubs that send it batches, once
(``vendor_certificate_reminders_due`` and ``vendor_certificate_remind``, run daily by Celery beat).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hubs.models import Hub, HubMembership
from hubs.selectors import (
    restrict_to_user_hubs,
    user_can_act_in_hub,
    user_is_hub_manager,
    user_is_hub_staff,
    user_language,
)
from refurbishing.errors import LifecycleError
from refurbishing.models import (
    Device,
    DeviceState,
    RecyclingBatch,
    RecyclingBatchDevice,
    RecyclingPartner,
    VendorCertificate,
    WasteStream,
)
from refurbishing.recycling.streams import (
    Coverage,
    device_list_with_data_state,
    recycling_batch_coverage,
    streams_described,
)
from refurbishing.services import device_transition
from refurbishing.signals import recycling_batch_dispatched

CENT = Decimal("0.01")


def recycling_batch_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[RecyclingBatch]:
    """Batches at the user's hubs, with their partner and hub, and how many devices each holds."""
    queryset = RecyclingBatch.objects.select_related("partner", "hub", "closed_by").annotate(
        device_count=Count("items")
    )
    return restrict_to_user_hubs(queryset, user=user).order_by("-created_at", "-id")


def vendor_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[RecyclingPartner]:
    """The register of downstream vendors with their certificates (latest expiry first), for hub staff: every hub
    shares it. Nobody else (donors, coordinators, partners) reads it."""
    if not user_is_hub_staff(user=user):
        return RecyclingPartner.objects.none()
    certificates = VendorCertificate.objects.order_by("-expires_on", "id")
    return RecyclingPartner.objects.prefetch_related(Prefetch("certificates", queryset=certificates)).order_by(
        "name", "id"
    )


def vendor_certificate_state(certificate: VendorCertificate, *, today: date) -> str:
    """``expired``, ``not_yet_valid``, ``expires_soon`` (within the reminder's days) or ``valid``, on ``today``."""
    if certificate.expires_on < today:
        return "expired"
    if certificate.valid_from > today:
        return "not_yet_valid"
    if (certificate.expires_on - today).days <= REMINDER_DAYS_BEFORE_EXPIRY:
        return "expires_soon"
    return "valid"


def recycling_batch_devices(*, batch: RecyclingBatch) -> QuerySet[Device]:
    return Device.objects.filter(recycling_item__batch=batch).order_by("id")


def recycling_batch_create(
    *,
    hub: Hub,
    partner: RecyclingPartner,
    reference: str,
    actor: AbstractBaseUser,
) -> RecyclingBatch:
    """Open a batch at the hub for a partner."""
    if not user_can_act_in_hub(user=actor, hub_id=hub.pk):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": hub.code}, code="forbidden")
    reference = reference.strip()
    if not reference:
        raise LifecycleError(_("Give the batch a reference."), field_errors={"reference": [_("Enter a reference.")]})
    try:
        with transaction.atomic():
            return RecyclingBatch.objects.create(hub=hub, partner=partner, reference=reference)
    except IntegrityError:
        raise LifecycleError(
            _("A recycling batch %(reference)s already exists.") % {"reference": reference},
            field_errors={"reference": [_("Choose another reference.")]},
        ) from None


def recycling_batch_add_devices(
    *, batch: RecyclingBatch, devices: Iterable[Device], actor: AbstractBaseUser
) -> tuple[int, list[str]]:
    """Add devices waiting to be recycled (``to_recycle``, at the batch's hub, in no batch yet) to an open batch.

    Returns how many were added and, for each device left out, why.
    """
    if not user_can_act_in_hub(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": batch.hub.code}, code="forbidden")
    refusals: list[str] = []
    with transaction.atomic():
        locked = RecyclingBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != RecyclingBatch.Status.OPEN:
            raise LifecycleError(_("Batch %(reference)s is closed.") % {"reference": locked.reference})
        devices = list(devices)
        taken = set(
            RecyclingBatchDevice.objects.filter(device__in=[d.pk for d in devices]).values_list("device_id", flat=True)
        )
        rows = []
        for device in devices:
            if device.hub_id != locked.hub_id:
                refusals.append(_("%(device)s is at another hub.") % {"device": device})
            elif device.state != DeviceState.TO_RECYCLE:
                refusals.append(
                    _("%(device)s is %(state)s; only a device to recycle joins a batch.")
                    % {"device": device, "state": device.get_state_display()}
                )
            elif device.pk in taken:
                refusals.append(_("%(device)s is already in a batch.") % {"device": device})
            else:
                rows.append(RecyclingBatchDevice(batch=locked, device=device))
                taken.add(device.pk)
        RecyclingBatchDevice.objects.bulk_create(rows)
    return len(rows), refusals


def recycling_batch_add_waiting(*, batch: RecyclingBatch, actor: AbstractBaseUser) -> int:
    """Add every device of the batch's hub waiting to be recycled and in no batch yet; returns how many."""
    waiting = Device.objects.filter(
        hub_id=batch.hub_id, state=DeviceState.TO_RECYCLE, recycling_item__isnull=True
    ).order_by("id")
    added, _refusals = recycling_batch_add_devices(batch=batch, devices=waiting, actor=actor)
    return added


def _shares(total: Decimal, count: int) -> list[Decimal]:
    """``total`` split in ``count`` shares to the cent that add up to it exactly (the last takes the rest)."""
    share = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (count - 1) + [total - share * (count - 1)]


def recycling_batch_weights(*, batch: RecyclingBatch, devices: list[Device]) -> dict[int, Decimal]:
    """Each device's weight for its ``recycle`` event, adding up to what the partner weighed.

    With weights per category for every category in the batch, each category's weight is shared among its
    devices; otherwise the weighed total is shared among all of them.
    """
    total = batch.total_weight_kg
    by_category = {str(k): Decimal(str(v)) for k, v in (batch.weights_by_category or {}).items()}
    groups: dict[str, list[Device]] = defaultdict(list)
    for device in devices:
        groups[device.category].append(device)
    if by_category and set(groups) <= set(by_category):
        if any(by_category[c] <= 0 for c in groups):
            raise LifecycleError(_("Every category's weight must be more than 0 kg."))
        pairs = [(group, by_category[category]) for category, group in groups.items()]
    elif total:
        pairs = [(devices, Decimal(total))]
    else:
        raise LifecycleError(
            _("Enter the weighed total of batch %(reference)s, in kg, before closing it.")
            % {"reference": batch.reference},
            field_errors={"total_weight_kg": [_("Enter the weight the partner weighed, in kg.")]},
        )
    weights: dict[int, Decimal] = {}
    for group, weight in pairs:
        shares = _shares(weight, len(group))
        if shares[0] <= 0:
            raise LifecycleError(
                _("%(weight)s kg is too little to share among %(count)d devices.")
                % {"weight": weight, "count": len(group)}
            )
        for device, share in zip(group, shares, strict=True):
            weights[device.pk] = share
    return weights


def vendor_certificate_record(
    *,
    vendor: RecyclingPartner,
    scheme: str,
    number: str,
    scope: list[str],
    valid_from: date,
    expires_on: date,
) -> VendorCertificate:
    """Record a certificate of a downstream vendor (a renewal is a new certificate: the old one stays, dated)."""
    certificate = VendorCertificate(
        vendor=vendor,
        scheme=scheme,
        number=number.strip(),
        scope=list(scope),
        valid_from=valid_from,
        expires_on=expires_on,
    )
    try:
        certificate.full_clean()
    except ValidationError as error:
        raise LifecycleError(
            " ".join(str(message) for message in error.messages),
            field_errors={name: [str(m) for m in messages] for name, messages in error.message_dict.items()},
        ) from None
    certificate.save()
    return certificate


# Devices named in a refusal before "…": enough to find them, short enough to read.
DEVICES_NAMED = 5
# How long before a vendor's certificate expires its hubs' managers are told.
REMINDER_DAYS_BEFORE_EXPIRY = 30


def _day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def vendor_certificate_described(certificate: VendorCertificate) -> str:
    """The certificate with its dates, in the reader's language: "R2v3 R2-104233, valid 1 March 2025 to ..."."""
    return _("%(certificate)s, valid %(start)s to %(end)s") % {
        "certificate": certificate,
        "start": _day(certificate.valid_from),
        "end": _day(certificate.expires_on),
    }


def recycling_batch_coverage_refusal(*, batch: RecyclingBatch, coverage: Coverage) -> str | None:
    """Why the batch may not be dispatched to its vendor on the coverage's day, in plain sentences; None if it may."""
    if coverage.complete:
        return None
    vendor, day = batch.partner.name, _day(coverage.day)
    sentences = []
    missing = [stream for stream in coverage.missing if stream != WasteStream.DATA_BEARING_DEVICES]
    if missing:
        sentences.append(
            _(
                "%(vendor)s holds no certificate valid on %(day)s for %(streams)s, which batch %(reference)s holds: "
                "record the vendor's current certificate before closing the batch."
            )
            % {"vendor": vendor, "day": day, "streams": streams_described(missing), "reference": batch.reference}
        )
    if WasteStream.DATA_BEARING_DEVICES in coverage.missing:
        named = ", ".join(str(device) for device in coverage.unwiped[:DEVICES_NAMED])
        if len(coverage.unwiped) > DEVICES_NAMED:
            named += ", …"
        sentences.append(
            ngettext(
                "Batch %(reference)s holds %(count)d device whose data is not wiped (%(devices)s), and %(vendor)s "
                "holds no certificate valid on %(day)s to destroy data (whole data-bearing devices): wipe it first, "
                "or record the vendor's certificate that covers destroying data.",
                "Batch %(reference)s holds %(count)d devices whose data is not wiped (%(devices)s), and %(vendor)s "
                "holds no certificate valid on %(day)s to destroy data (whole data-bearing devices): wipe them first, "
                "or record the vendor's certificate that covers destroying data.",
                len(coverage.unwiped),
            )
            % {
                "reference": batch.reference,
                "count": len(coverage.unwiped),
                "devices": named,
                "vendor": vendor,
                "day": day,
            }
        )
    if coverage.lapsed:
        sentences.append(
            _("Not valid on %(day)s: %(certificates)s.")
            % {"day": day, "certificates": "; ".join(vendor_certificate_described(c) for c in coverage.lapsed)}
        )
    return " ".join(sentences)


def recycling_batch_close(
    *,
    batch: RecyclingBatch,
    actor: AbstractBaseUser,
    total_weight_kg: Decimal | None = None,
    weights_by_category: dict[str, Any] | None = None,
    certificate_reference: str | None = None,
    certificate_date: date | None = None,
) -> RecyclingBatch:
    """Dispatch the batch to its vendor: recycle every device and close it, all or nothing; managers of the batch's
    hub only.

    Refused, with nothing written, unless today the vendor holds a valid certificate for every waste stream of the
    batch (devices whose data is not wiped: whole data-bearing devices, which only a vendor certified to destroy data
    takes). Each device moves through ``device_transition`` (``recycle``, with its guards) and gets its share of the
    weighed total on its event. The batch keeps its streams and the certificates that covered them, as they read
    today; the devices handed over unwiped are marked, and their events name the certificate that destroys their data.
    """
    if not user_can_act_in_hub(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": batch.hub.code}, code="forbidden")
    if not user_is_hub_manager(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("Only a manager of the hub can close a recycling batch."), code="forbidden")
    with transaction.atomic():
        locked = RecyclingBatch.objects.select_for_update(of=("self",)).select_related("partner").get(pk=batch.pk)
        if locked.status != RecyclingBatch.Status.OPEN:
            raise LifecycleError(_("Batch %(reference)s is already closed.") % {"reference": locked.reference})
        if total_weight_kg is not None:
            locked.total_weight_kg = total_weight_kg
        if weights_by_category is not None:
            locked.weights_by_category = {str(k): str(v) for k, v in weights_by_category.items()}
        if certificate_reference is not None:
            locked.certificate_reference = certificate_reference
        if certificate_date is not None:
            locked.certificate_date = certificate_date
        devices = list(
            device_list_with_data_state(queryset=Device.objects.filter(recycling_item__batch=locked).order_by("id"))
        )
        if not devices:
            raise LifecycleError(_("Batch %(reference)s has no devices to recycle.") % {"reference": locked.reference})
        # The dispatch is today: the vendor's certificates must cover every stream of the batch on this day.
        coverage = recycling_batch_coverage(batch=locked, day=timezone.localdate(), devices=devices)
        refusal = recycling_batch_coverage_refusal(batch=locked, coverage=coverage)
        if refusal:
            raise LifecycleError(refusal)
        weights = recycling_batch_weights(batch=locked, devices=devices)
        note = _("Recycled in batch %(reference)s by %(partner)s.") % {
            "reference": locked.reference,
            "partner": locked.partner.name,
        }
        destruction = coverage.data_destruction_certificate()
        unwiped = {device.pk for device in coverage.unwiped}
        for device in devices:
            data = {"weight_kg": weights[device.pk], "recycling_batch": locked.reference}
            if device.pk in unwiped and destruction is not None:
                # The chain of custody says who destroys the data, under which certificate.
                data["data_destroyed_by"] = {
                    "vendor": locked.partner.name,
                    "scheme": destruction.scheme,
                    "number": destruction.number,
                }
            device_transition(device=device, action="recycle", actor=actor, note=note, data=data)
        if unwiped:
            RecyclingBatchDevice.objects.filter(batch=locked, device_id__in=unwiped).update(
                data_destroyed_by_vendor=True
            )
        locked.waste_streams = list(coverage.streams)
        locked.vendor_certificates = coverage.snapshot()
        if locked.total_weight_kg is None:
            locked.total_weight_kg = sum(weights.values(), Decimal(0))
        locked.status = RecyclingBatch.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save()
        batch_id, hub_id = locked.pk, locked.hub_id
        transaction.on_commit(
            lambda: recycling_batch_dispatched.send(sender=RecyclingBatch, batch_id=batch_id, hub_id=hub_id)
        )
    return locked


def vendor_certificate_reminders_due(*, day: date | None = None) -> list[int]:
    """The ids of the certificates that expire within ``REMINDER_DAYS_BEFORE_EXPIRY`` days of ``day`` (today) and whose
    reminder was not sent yet."""
    day = day or timezone.localdate()
    return list(
        VendorCertificate.objects.filter(
            reminded_at__isnull=True,
            expires_on__gte=day,
            expires_on__lte=day + timedelta(days=REMINDER_DAYS_BEFORE_EXPIRY),
        )
        .order_by("expires_on", "id")
        .values_list("pk", flat=True)
    )


def vendor_hubs(*, vendor: RecyclingPartner) -> QuerySet[Hub]:
    """The active hubs that send the vendor batches (vendors are shared by every hub)."""
    return Hub.objects.filter(active=True, recycling_batches__partner=vendor).distinct().order_by("code")


def vendor_certificate_recipients(*, vendor: RecyclingPartner) -> list[AbstractBaseUser]:
    """Who is told that a vendor's certificate expires: the managers of the hubs that send it batches (they close
    them), and the platform admins, who keep the register of vendors. A hub that never used the vendor is not told."""
    managers = Q(
        hub_memberships__role=HubMembership.Role.MANAGER,
        hub_memberships__hub__in=vendor_hubs(vendor=vendor),
    )
    users = get_user_model().objects.filter(managers | Q(is_superuser=True), is_active=True).exclude(email="")
    return list(users.distinct().order_by("pk"))


def _renewed(certificate: VendorCertificate) -> bool:
    """Whether the vendor already holds a certificate valid the day after this one expires, covering all it covers."""
    day_after = certificate.expires_on + timedelta(days=1)
    later = VendorCertificate.objects.filter(
        vendor_id=certificate.vendor_id, valid_from__lte=day_after, expires_on__gte=day_after
    ).exclude(pk=certificate.pk)
    covered = {stream for other in later for stream in other.scope or []}
    return set(certificate.scope or []) <= covered


def vendor_certificate_remind(*, certificate_id: int) -> bool:
    """Tell the vendor's hubs' managers, once, that its certificate expires soon; returns whether this call sent it.

    The certificate is claimed by one ``UPDATE ... WHERE reminded_at IS NULL``: of two runs (a retry, beat running
    twice, two workers) only the one whose update changed the row sends. A mail that fails rolls the claim back, so
    the next run tries again. A certificate already renewed (another, valid the day after, covers its streams) is
    claimed and nobody is told.
    """
    with transaction.atomic():
        claimed = VendorCertificate.objects.filter(pk=certificate_id, reminded_at__isnull=True).update(
            reminded_at=timezone.now()
        )
        if not claimed:
            return False
        certificate = VendorCertificate.objects.select_related("vendor").get(pk=certificate_id)
        if _renewed(certificate):
            return False
        vendor = certificate.vendor
        hubs = ", ".join(vendor_hubs(vendor=vendor).values_list("code", flat=True))
        for user in vendor_certificate_recipients(vendor=vendor):
            with translation.override(user_language(user=user) or settings.LANGUAGE_CODE):
                values = {
                    "vendor": vendor.name,
                    "certificate": certificate,
                    "streams": streams_described(certificate.scope or []),
                    "day": _day(certificate.expires_on),
                    "hubs": hubs,
                }
                subject = _("The certificate %(certificate)s of %(vendor)s expires on %(day)s") % values
                lines = [
                    _(
                        "The certificate %(certificate)s of %(vendor)s, which covers %(streams)s, expires on %(day)s. "
                        "From the day after, a recycling batch holding these waste streams cannot be closed to "
                        "%(vendor)s until its renewed certificate is recorded with the vendor in the admin."
                    )
                    % values
                ]
                if hubs:
                    lines.append(_("Hubs that send batches to %(vendor)s: %(hubs)s.") % values)
                send_mail(subject=subject, message="\n\n".join(lines), from_email=None, recipient_list=[user.email])
    return True
