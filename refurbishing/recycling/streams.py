"""Which waste streams a recycling batch holds, and whether its downstream vendor's certificates cover them.

A read only: closing a batch (``refurbishing.recycling.services.recycling_batch_close``) refuses when the coverage
is incomplete, and the lifecycle's recycle guard asks ``device_data_destruction_certificate`` before a device whose
data is not wiped may go. Nothing here imports the services, so the lifecycle can import it.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from refurbishing.models import (
    Device,
    Drive,
    DriveSanitisation,
    RecyclingBatch,
    RecyclingBatchDevice,
    SanitisationRecord,
    VendorCertificate,
    WasteStream,
)

C = Device.Category
W = WasteStream
EVERY_DEVICE = (W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS)

# What a device of each category brings to the downstream vendor. Source: the focus materials of the R2v3 Standard
# (SERI: batteries, circuit boards, CRTs and CRT glass, data-bearing devices, whose downstream vendors R2v3's
# Appendix A has the facility qualify), and the components the WEEE Directive has taken out for separate treatment
# (2012/19/EU, Annex VII: batteries, printed circuit boards, plastics containing brominated flame retardants, cathode
# ray tubes). Every device has boards, plastic and metal (chassis, frame, heat sinks); laptops, tablets and phones
# carry a rechargeable battery, desktops and servers a lithium coin cell on the motherboard. A device of no known
# kind ("other") is taken to hold a battery, so that no vendor receives one it is not certified for unawares.
STREAMS_BY_CATEGORY: dict[str, tuple[WasteStream, ...]] = {
    C.LAPTOP: (*EVERY_DEVICE, W.BATTERIES),
    C.TABLET: (*EVERY_DEVICE, W.BATTERIES),
    C.SMARTPHONE: (*EVERY_DEVICE, W.BATTERIES),
    C.DESKTOP: (*EVERY_DEVICE, W.BATTERIES),
    C.SERVER: (*EVERY_DEVICE, W.BATTERIES),
    C.MONITOR: EVERY_DEVICE,
    C.NETWORKING: EVERY_DEVICE,
    C.PRINTER: EVERY_DEVICE,
    C.OTHER: (*EVERY_DEVICE, W.BATTERIES),
}

# A device records no display technology: a CRT monitor (or CRT all-in-one) is told by "CRT" in its model, as donors'
# asset lists and the hub's bench write it ("Dell E773c CRT"). A CRT the model does not name is not seen.
CRT_MARK = re.compile(r"\bCRT\b", re.IGNORECASE)

# Streams a device adds to its category's, each with the rule on the device that brings it. A device whose storage
# media is not wiped (``device_data_unwiped``) goes whole, as a data-bearing device, for the vendor to destroy.
CONDITIONAL_STREAMS: tuple[tuple[WasteStream, Callable[[Device], bool]], ...] = (
    (W.CRT_GLASS, lambda device: bool(CRT_MARK.search(device.model or ""))),
    (W.DATA_BEARING_DEVICES, lambda device: device_data_unwiped(device)),
)


def device_list_with_data_state(*, queryset: QuerySet[Device]) -> QuerySet[Device]:
    """The devices with what ``device_data_unwiped`` reads (three EXISTS, in the one query)."""
    verified_drive_wipe = DriveSanitisation.objects.filter(drive=OuterRef("pk"), verified=True)
    return queryset.annotate(
        has_drives=Exists(Drive.objects.filter(device=OuterRef("pk"))),
        has_unwiped_drive=Exists(Drive.objects.filter(device=OuterRef("pk")).filter(~Exists(verified_drive_wipe))),
        has_device_wipe=Exists(SanitisationRecord.objects.filter(device=OuterRef("pk"), verified=True)),
    )


def device_data_unwiped(device: Device) -> bool:
    """Whether the device holds storage media that is not wiped, by the lifecycle's own rule
    (``refurbishing.lifecycle.storage_is_sanitised``): with known drives, one without a verified wipe; without, storage
    media and no verified sanitisation record. Reads ``device_list_with_data_state``'s annotations."""
    if device.has_drives:
        return device.has_unwiped_drive
    return device.has_storage_media and not device.has_device_wipe


def device_streams(device: Device) -> set[str]:
    streams = set(STREAMS_BY_CATEGORY.get(device.category, STREAMS_BY_CATEGORY[C.OTHER]))
    streams.update(stream for stream, brings in CONDITIONAL_STREAMS if brings(device))
    return streams


def device_streams_handed_over(*, category: str, model: str, data_destroyed_by_vendor: bool) -> set[str]:
    """The streams a recycled device was handed over as, from what its batch recorded at dispatch: its category's,
    CRT glass for a model naming a CRT, and whole data-bearing devices when the vendor destroyed its data (a device
    leaves unwiped only then). The same rules as ``device_streams``, read from plain values (a yearly report reads
    tens of thousands of devices without loading them)."""
    streams = set(STREAMS_BY_CATEGORY.get(category, STREAMS_BY_CATEGORY[C.OTHER]))
    if CRT_MARK.search(model or ""):
        streams.add(W.CRT_GLASS)
    if data_destroyed_by_vendor:
        streams.add(W.DATA_BEARING_DEVICES)
    return streams


def streams_ordered(streams: Iterable[str]) -> list[str]:
    """Stream codes in the order ``WasteStream`` declares them, each once."""
    present = set(streams)
    return [code for code in W.values if code in present]


def streams_described(streams: Iterable[str]) -> str:
    """The streams' names, in the reader's language: "batteries, circuit boards"."""
    return ", ".join(str(W(code).label) if code in W.values else code for code in streams_ordered(streams))


def certificate_snapshot(certificate: VendorCertificate, *, streams: Iterable[str]) -> dict[str, Any]:
    """A certificate as a batch keeps it: scheme, number, dates, and which of the batch's streams it covered."""
    return {
        "scheme": certificate.scheme,
        "number": certificate.number,
        "valid_from": certificate.valid_from.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "streams": streams_ordered(set(streams) & set(certificate.scope or [])),
    }


def vendor_certificates_described(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Certificates as a batch keeps them (``certificate_snapshot``), in the reader's language:
    "R2v3 R2-104233, valid until 28 February 2027, for batteries, circuit boards"."""
    schemes = dict(VendorCertificate.Scheme.choices)
    lines = []
    for entry in entries or []:
        lines.append(
            _("%(scheme)s %(number)s, valid until %(day)s, for %(streams)s")
            % {
                "scheme": schemes.get(entry.get("scheme"), entry.get("scheme", "")),
                "number": entry.get("number", ""),
                "day": date_format(date.fromisoformat(entry["expires_on"]), "DATE_FORMAT"),
                "streams": streams_described(entry.get("streams", [])),
            }
        )
    return lines


@dataclass(frozen=True)
class Coverage:
    """Whether a vendor's certificates cover a batch's waste streams on one day."""

    day: date
    streams: tuple[str, ...]
    # Valid that day and covering at least one of the batch's streams.
    covering: tuple[VendorCertificate, ...]
    # The batch's streams none of those covers.
    missing: tuple[str, ...]
    # The vendor's certificates that would cover a missing stream but are not valid that day (expired, or not yet).
    lapsed: tuple[VendorCertificate, ...]
    # Devices going whole, their data not wiped: the data-bearing devices stream.
    unwiped: tuple[Device, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    def snapshot(self) -> list[dict[str, Any]]:
        return [certificate_snapshot(certificate, streams=self.streams) for certificate in self.covering]

    def data_destruction_certificate(self) -> VendorCertificate | None:
        return next((certificate for certificate in self.covering if certificate.destroys_data), None)


def recycling_batch_coverage(*, batch: RecyclingBatch, day: date, devices: list[Device] | None = None) -> Coverage:
    """The batch's waste streams (from its devices, or ``devices`` read with ``device_list_with_data_state``) against
    its vendor's certificates on ``day``. Two queries."""
    if devices is None:
        queryset = Device.objects.filter(recycling_item__batch=batch).order_by("id")
        devices = list(device_list_with_data_state(queryset=queryset))
    streams = streams_ordered(stream for device in devices for stream in device_streams(device))
    certificates = list(VendorCertificate.objects.filter(vendor_id=batch.partner_id).order_by("-expires_on", "id"))
    covering = [c for c in certificates if c.is_valid_on(day) and set(c.scope or []) & set(streams)]
    covered = {stream for certificate in covering for stream in certificate.scope or []}
    missing = [stream for stream in streams if stream not in covered]
    lapsed = [c for c in certificates if not c.is_valid_on(day) and set(c.scope or []) & set(missing)]
    return Coverage(
        day=day,
        streams=tuple(streams),
        covering=tuple(covering),
        missing=tuple(missing),
        lapsed=tuple(lapsed),
        unwiped=tuple(device for device in devices if device_data_unwiped(device)),
    )


def device_data_destruction_certificate(
    *, device: Device, batch_reference: str | None, day: date
) -> VendorCertificate | None:
    """The certificate under which the vendor of the device's open batch ``batch_reference`` destroys its data on
    ``day``: valid that day and covering whole data-bearing devices. None when there is none, or the device is not in
    that open batch (a device recycled on its own has no vendor to destroy its data)."""
    if not batch_reference:
        return None
    item = (
        RecyclingBatchDevice.objects.filter(
            device_id=device.pk, batch__reference=batch_reference, batch__status=RecyclingBatch.Status.OPEN
        )
        .select_related("batch")
        .first()
    )
    if item is None:
        return None
    valid = VendorCertificate.objects.filter(
        vendor_id=item.batch.partner_id, valid_from__lte=day, expires_on__gte=day
    ).order_by("-expires_on", "id")
    return next((certificate for certificate in valid if certificate.destroys_data), None)
