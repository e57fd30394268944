"""Reads for the donor side, already scoped to the user's own organisations."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from hubs.models import Hub
from hubs.selectors import (
    hub_ids_for_user,
    hub_ids_managed_by,
    hub_list_taking_company_donations,
    restrict_to_user_hubs,
)
from refurbishing.hardware.selectors import sanitisation_rows_for_donation
from refurbishing.models import Device, DeviceState, SanitisationRecord
from refurbishing.selectors import (
    PROGRESS_STAGES,
    device_list_with_last_move,
    device_progress_aggregates,
)

from .models import (
    Certificate,
    Donation,
    DonationChange,
    Donor,
    EResourceAllocation,
    EResourceCommitment,
    EvidenceArchive,
    SpreadsheetImport,
)

# Where a donor in a country without a hub usually sends its devices: the nearest hub's country.
NEAREST_HUB_COUNTRY = {
    "NL": "BE", "LU": "BE", "FR": "BE", "DE": "BE", "GB": "BE", "IE": "BE", "CH": "BE", "AT": "BE", "DK": "BE",
    "UG": "KE", "TZ": "KE", "RW": "KE", "ET": "KE", "SS": "KE", "SO": "KE", "BI": "KE",
    "NA": "ZA", "BW": "ZA", "ZW": "ZA", "MZ": "ZA", "LS": "ZA", "SZ": "ZA", "ZM": "ZA", "MW": "ZA",
    "CG": "CD", "CF": "CD", "AO": "CD", "GA": "CD", "CM": "CD",
}  # fmt: skip


AnyUser = AbstractBaseUser | AnonymousUser


def donor_list_for_user(*, user: AnyUser) -> QuerySet[Donor]:
    if not user.is_authenticated:
        return Donor.objects.none()
    return Donor.objects.filter(users=user)


def donation_list_for_user(*, user: AnyUser) -> QuerySet[Donation]:
    """The donations of the donor organisations the user belongs to, with their device counts."""
    return (
        Donation.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor", "hub")
        .annotate(device_count=Count("devices"))
        .order_by("-pledged_at")
    )


def donation_list_awaiting_check_in(*, user: AbstractBaseUser | AnonymousUser, limit: int = 20) -> QuerySet[Donation]:
    """Donations pledged to the user's hubs and not yet fully received, oldest pickup first."""
    from hubs.selectors import restrict_to_user_hubs

    queryset = Donation.objects.filter(status=Donation.Status.PLEDGED).select_related("donor", "hub")
    return restrict_to_user_hubs(queryset, user=user).order_by("pledged_at")[:limit]


def donation_list_for_api(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Donation]:
    """What the API shows: a donor's users their organisations' donations; hub staff their hubs' donations.

    Anything else does not exist for the caller (the API answers 404, as the pages do).
    """
    if not user.is_authenticated or not user.is_active:
        return Donation.objects.none()
    hub_ids = hub_ids_for_user(user=user)
    scope = Q(donor__users=user)
    if hub_ids is None:
        scope = Q()
    elif hub_ids:
        scope |= Q(hub_id__in=hub_ids)
    # A subquery keeps one row per donation whatever the joins (a user of two organisations, staff and donor).
    ids = Donation.objects.filter(scope).values("pk")
    return Donation.objects.filter(pk__in=ids).select_related("donor", "hub").annotate(device_count=Count("devices"))


def hub_suggested_for_donor(*, donor: Donor) -> Hub | None:
    """The active hub taking company donations the donor's devices most likely go to: one in its country, else in
    the nearest hub country."""
    hubs = hub_list_taking_company_donations()
    country = str(donor.country or "").upper()  # a django-countries Country: its code
    for candidate in (country, NEAREST_HUB_COUNTRY.get(country)):
        if candidate:
            hub = hubs.filter(country=candidate).first()
            if hub is not None:
                return hub
    return None


def hub_usual_for_donor(*, donor: Donor) -> tuple[Hub | None, str]:
    """The hub to offer first, and why: the active hub of the donor's latest donation ("usual"), else the one
    its country suggests ("country"); (None, "") when neither says, and the person chooses."""
    latest = (
        Donation.objects.filter(donor=donor, hub__active=True, hub__kind__takes_company_donations=True)
        .exclude(status=Donation.Status.CANCELLED)
        .select_related("hub")
        .order_by("-pledged_at", "-id")
        .first()
    )
    if latest is not None:
        return latest.hub, "usual"
    suggested = hub_suggested_for_donor(donor=donor)
    return suggested, "country" if suggested is not None else ""


def donation_change_list(*, donation: Donation) -> QuerySet[DonationChange]:
    return donation.changes.select_related("actor").order_by("occurred_at", "id")


def spreadsheet_import_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> SpreadsheetImport:
    """An upload of one of the user's organisations; ``SpreadsheetImport.DoesNotExist`` otherwise (a 404)."""
    return (
        SpreadsheetImport.objects.filter(donor__in=donor_list_for_user(user=user))
        # Not joined to its donation: a running import may be creating that row, and the progress poll must
        # not wait for it (the donation is read once the import is over).
        .select_related("donor")
        .defer("content")  # up to IMPORT_MAX_FILE_BYTES: loaded only by the steps that read the file
        .get(pk=pk)
    )


def donation_list_with_progress(*, user: AnyUser) -> QuerySet[Donation]:
    """The user's donations, each with ``progress_<stage>`` counts (one query, whatever the number of devices)."""
    return (
        Donation.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor", "hub")
        .annotate(**device_progress_aggregates(prefix="devices__"))
        .order_by("-pledged_at")
    )


def donation_get_for_user(*, user: AnyUser, reference: str) -> Donation:
    """One of the user's donations with its progress; ``Donation.DoesNotExist`` for anyone else's."""
    return donation_list_with_progress(user=user).get(reference=reference)


def progress_of(donation: Donation) -> dict[str, int]:
    """The stage counts a donation from ``donation_list_with_progress`` carries, as ``{stage: count}``."""
    return {stage: getattr(donation, f"progress_{stage}") for stage in PROGRESS_STAGES}


def device_list_for_user(*, user: AnyUser, donation: Donation | None = None) -> QuerySet[Device]:
    """The devices of the user's organisations (or of one of their donations), with their donation, hub and
    the date of their latest move; nobody else's."""
    devices = Device.objects.filter(donation__donor__in=donor_list_for_user(user=user))
    if donation is not None:
        devices = devices.filter(donation=donation)
    return device_list_with_last_move(queryset=devices.select_related("donation", "hub").order_by("donation_id", "id"))


def certificate_rows_for_donation(donation: Donation) -> list[dict[str, Any]]:
    """The rows a sanitisation certificate lists, NIST SP 800-88's fields: one per wiped drive of the donation's
    devices, with the drive's media type and serial; one per device where no drive is known (its device-level
    wipe record). The one place that decides what a certificate row holds."""
    rows_by_device = sanitisation_rows_for_donation(donation_id=donation.pk)
    wiped = {device_id: [row for row in rows if row.verified] for device_id, rows in rows_by_device.items()}
    devices = Device.objects.filter(pk__in=[device_id for device_id, rows in wiped.items() if rows]).order_by("id")
    rows = []
    for device in devices:
        for row in wiped[device.pk]:
            rows.append(
                {
                    "device_id": device.pk,
                    "category": device.category,
                    "manufacturer": device.manufacturer,
                    "model": device.model,
                    "serial_number": device.serial_number,
                    "asset_tag": device.asset_tag,
                    "media_type": row.media_type,
                    "media_serial": row.drive_serial,
                    "media_model": row.drive_model,
                    "method": row.method,
                    "technique": row.technique,
                    "tool": row.tool,
                    "tool_version": row.tool_version,
                    "verification": row.verification,
                    "verified": row.verified,
                    "operator": row.operator,
                    "completed_at": row.completed_at.isoformat() if row.completed_at else "",
                }
            )
    return rows


def recycling_rows_for_donation(donation: Donation) -> list[dict[str, Any]]:
    """The rows of a recycling certificate: every recycled device of the donation with its weight, date, the
    e-waste batch and downstream vendor it went with and the vendor's certificates that covered the batch at dispatch
    (empty for a device recycled on its own), and whether the vendor destroyed its data (handed over unwiped)."""
    devices = device_list_with_last_move(
        queryset=Device.objects.filter(donation=donation, state=DeviceState.RECYCLED)
        .annotate(
            batch_reference=F("recycling_item__batch__reference"),
            batch_partner=F("recycling_item__batch__partner__name"),
            batch_vendor_certificates=F("recycling_item__batch__vendor_certificates"),
            data_destroyed_by_vendor=F("recycling_item__data_destroyed_by_vendor"),
        )
        .order_by("id")
    )
    return [
        {
            "device_id": device.pk,
            "category": device.category,
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "asset_tag": device.asset_tag,
            "weight_kg": str(device.weight_kg) if device.weight_kg is not None else "",
            "recycled_at": device.last_moved_at.isoformat() if device.last_moved_at else "",
            "batch_reference": device.batch_reference or "",
            "recycler": device.batch_partner or "",
            "recycler_certificates": device.batch_vendor_certificates or [],
            "data_destroyed_by_recycler": bool(device.data_destroyed_by_vendor),
        }
        for device in devices
    ]


def certificate_pending_devices(donation: Donation) -> list[Device]:
    """What stands between a donation and its sanitisation certificate: storage-bearing devices still awaited, and
    those that arrived but are neither wiped nor recycled. Empty when the certificate can be issued.

    Devices marked missing never arrived, so they hold nothing up (the certificate says how many there are).
    """
    wiped = Exists(SanitisationRecord.objects.filter(device=OuterRef("pk"), verified=True))
    awaited = Q(state=DeviceState.PLEDGED)
    not_wiped = ~Q(state__in=(DeviceState.MISSING, DeviceState.RECYCLED)) & ~Q(wiped=True)
    return list(
        Device.objects.filter(donation=donation, has_storage_media=True)
        .annotate(wiped=wiped)
        .filter(awaited | not_wiped)
        .select_related("hub")
        .order_by("id")
    )


def certificate_current(*, donation: Donation, kind: str) -> Certificate | None:
    """The donation's certificate of this kind that no other supersedes, if one was issued."""
    return (
        Certificate.objects.filter(donation=donation, kind=kind, superseded_by__isnull=True)
        .order_by("-issued_at", "-id")
        .first()
    )


def certificate_get_public(*, number: str) -> Certificate:
    """A certificate by its number, for the public verification page; ``Certificate.DoesNotExist`` if unknown."""
    return Certificate.objects.select_related("superseded_by").get(number=number.strip().upper())


# --- e-Resource ---------------------------------------------------------------------------------------------------


def e_resource_commitment_list_for_user(*, user: AnyUser) -> QuerySet[EResourceCommitment]:
    """The commitments of the user's organisations, newest first, with their donor; nobody else's."""
    return (
        EResourceCommitment.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor")
        .order_by("-created_at", "-id")
    )


def e_resource_commitment_get_for_user(*, user: AnyUser, pk: int) -> EResourceCommitment:
    """One of the user's organisations' commitments; ``EResourceCommitment.DoesNotExist`` for anyone else's."""
    return e_resource_commitment_list_for_user(user=user).get(pk=pk)


def e_resource_commitment_get_public(*, number: str) -> EResourceCommitment:
    """A covered commitment by its certificate number, for the public verification page; DoesNotExist if unknown."""
    return EResourceCommitment.objects.select_related("donor").get(
        certificate_number=number.strip().upper(), status=EResourceCommitment.Status.COVERED
    )


def e_resource_allocation_rows(*, commitment: EResourceCommitment) -> list[dict[str, Any]]:
    """The batches whose kilograms went to the commitment: batch, hub, country, vendor, dispatch date, kilograms.
    The rows never change once written, so a certificate drawn from them reads the same every time."""
    allocations = (
        EResourceAllocation.objects.filter(commitment=commitment)
        .select_related("source__batch__hub", "source__batch__partner")
        .order_by("allocated_at", "id")
    )
    return [
        {
            "batch_reference": allocation.source.batch.reference,
            "hub": allocation.source.batch.hub.name,
            "country": allocation.source.batch.hub.country,
            "vendor": allocation.source.batch.partner.name,
            "vendor_certificates": allocation.source.batch.vendor_certificates or [],
            "dispatched_at": allocation.source.dispatched_at,
            "kg": allocation.kg,
        }
        for allocation in allocations
    ]


def e_resource_devices_sent_to_africa(*, donor_ids: list[int], african_countries: frozenset[str]) -> int:
    """How many devices of these donors are, or were delivered from, hubs in Africa: a hint for a commitment."""
    return Device.objects.filter(donation__donor_id__in=donor_ids, hub__country__in=african_countries).count()


def e_resource_allocations_uncounted_for_update(*, limit: int) -> list[dict[str, Any]]:
    """The oldest allocations not yet folded into impact, locked for the caller's transaction (``skip_locked``: two
    folds side by side each take rows the other has not), with the hub and month their kilograms count in."""
    queryset = (
        EResourceAllocation.objects.filter(impact_counted=False)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .values("id", "kg", "allocated_at", hub_id=F("source__batch__hub_id"))
    )
    return list(queryset[:limit])


def e_resource_allocations_all_for_recount(*, chunk_size: int = 5000):
    """Every allocation already folded into impact, streamed, for recomputing the counters from scratch."""
    return (
        EResourceAllocation.objects.filter(impact_counted=True)
        .order_by("id")
        .values("id", "kg", "allocated_at", hub_id=F("source__batch__hub_id"))
        .iterator(chunk_size=chunk_size)
    )


def evidence_hub_list_for_user(*, user: AnyUser) -> QuerySet[Hub]:
    """The hubs whose evidence the user may ask for: those they manage (every hub for a superuser)."""
    ids = hub_ids_managed_by(user=user)
    hubs = Hub.objects.all() if ids is None else Hub.objects.filter(pk__in=ids)
    return hubs.order_by("code")


def evidence_archive_list_for_user(*, user: AnyUser) -> QuerySet[EvidenceArchive]:
    """Evidence archives of the hubs the user manages, newest first; nobody else's (technicians' neither)."""
    archives = EvidenceArchive.objects.select_related("hub", "requested_by").order_by("-created_at", "-id")
    return restrict_to_user_hubs(archives, user=user, field="hub", action="manage")
