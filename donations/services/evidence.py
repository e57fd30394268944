"""Evidence for an auditor: for one hub and a date range, one zip a hub manager downloads.

``evidence_archive_start`` checks the request (a manager of the hub, a range forward and at most
``EVIDENCE_MAX_DAYS`` long) and queues ``donations.tasks.evidence_archive_build`` after commit; a refused request
writes nothing. The task writes the zip part by part to a temporary file on disk (nothing held whole in memory),
hashing each part as it is written, advances the archive's progress after each part, and saves the zip to the
private storage (``common.storage``: no public address; only the evidence views and API serve it, to managers of
that hub). The parts:

- ``chain_of_custody.csv``: every device event at the hub in the range;
- ``certificates/<number>.pdf``: every certificate issued in the range for donations to the hub (the same PDF as
  the donor downloads);
- ``wipe_samples.csv``: the wipe verification samples drawn in the range, one line per picked medium;
- ``vendor_certificates.csv``: the certificates, in force at some time in the range, of the downstream vendors the
  hub dispatched to in it;
- ``dispatches.csv``: each recycling batch closed in the range, one line per waste stream with the kg and count of
  the devices holding that stream (a device holding several streams counts in each: the vendor splits the
  materials, not the hub);
- ``MANIFEST.sha256``: the SHA-256 of every other file, in ``sha256sum -c`` format.
"""

import csv
import hashlib
import io
import os
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.storage import private_storage
from hubs.models import Hub
from hubs.selectors import user_is_hub_manager
from refurbishing.models import DeviceEvent, RecyclingBatch, VendorCertificate, WipeSampleItem
from refurbishing.recycling.services import recycling_batch_devices
from refurbishing.recycling.streams import device_list_with_data_state, device_streams, streams_ordered

from ..models import Certificate, EvidenceArchive
from ..selectors import evidence_archive_list_for_user
from .common import DonationError

EVIDENCE_MAX_DAYS = 366
# Fixed parts besides one per certificate: custody, samples, vendor certificates, dispatches, manifest.
FIXED_PARTS = 5


def _bounds(archive: EvidenceArchive) -> tuple[datetime, datetime]:
    """The range as aware datetimes, the last day included, in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(archive.date_from, time.min, tzinfo=zone)
    end = datetime.combine(archive.date_to + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def evidence_archive_start(*, actor: AbstractBaseUser, hub: Hub, date_from: date, date_to: date) -> EvidenceArchive:
    """Record the request and queue its build after commit; ``DonationError`` (nothing written) if refused."""
    from donations.tasks import evidence_archive_build

    if not user_is_hub_manager(user=actor, hub_id=hub.pk):
        raise DonationError(_("Only a manager of %(hub)s can download its evidence.") % {"hub": hub.code})
    if date_from is None or date_to is None:
        raise DonationError(_("Enter the first and the last day of the range."))
    if date_from > date_to:
        raise DonationError(_("The range runs backwards: the first day is after the last day."))
    if (date_to - date_from).days + 1 > EVIDENCE_MAX_DAYS:
        raise DonationError(
            _("The range is too long: at most %(days)d days in one archive.") % {"days": EVIDENCE_MAX_DAYS}
        )
    if date_from > timezone.localdate():
        raise DonationError(_("The range starts in the future."))
    with transaction.atomic():
        archive = EvidenceArchive.objects.create(hub=hub, date_from=date_from, date_to=date_to, requested_by=actor)
        transaction.on_commit(lambda: evidence_archive_build.delay(archive.pk))
    return archive


class _HashingWriter(io.RawIOBase):
    """Writes through to a zip member and hashes what passes."""

    def __init__(self, target) -> None:
        self.target = target
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.digest.update(data)
        self.target.write(data)
        return len(data)


def _write_csv(zf: zipfile.ZipFile, name: str, header: list[str], rows: Iterable[list]) -> str:
    with zf.open(name, "w", force_zip64=True) as member:
        raw = _HashingWriter(member)
        text = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
        text.flush()
        text.detach().flush()
    return raw.digest.hexdigest()


def _write_bytes(zf: zipfile.ZipFile, name: str, content: bytes) -> str:
    zf.writestr(name, content)
    return hashlib.sha256(content).hexdigest()


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _custody_rows(archive: EvidenceArchive) -> Iterator[list]:
    start, end = _bounds(archive)
    events = (
        DeviceEvent.objects.filter(hub_id=archive.hub_id, occurred_at__gte=start, occurred_at__lt=end)
        .select_related("device", "actor")
        .order_by("occurred_at", "id")
    )
    for event in events.iterator(chunk_size=2000):
        yield [
            event.pk,
            _iso(event.occurred_at),
            event.device_id,
            event.device.label_code,
            event.device.serial_number,
            event.device.donation_id,
            event.action,
            event.from_state,
            event.to_state,
            event.actor.get_username() if event.actor else "",
            event.note,
        ]


def _sample_rows(archive: EvidenceArchive) -> Iterator[list]:
    start, end = _bounds(archive)
    items = (
        WipeSampleItem.objects.filter(
            sample__hub_id=archive.hub_id, sample__picked_at__gte=start, sample__picked_at__lt=end
        )
        .select_related("sample__donation", "wiped_by", "verified_by")
        .order_by("sample__picked_at", "sample_id", "key")
    )
    for item in items.iterator(chunk_size=2000):
        sample = item.sample
        yield [
            sample.pk,
            sample.donation.reference,
            sample.round,
            sample.seed,
            len(sample.population),
            sample.status,
            _iso(sample.picked_at),
            _iso(sample.decided_at),
            item.key,
            item.device_id,
            item.media_serial,
            item.wiped_by.get_username(),
            _iso(item.wiped_at),
            item.result,
            item.verified_by.get_username() if item.verified_by else "",
            _iso(item.verified_at),
            item.notes,
        ]


def _batches(archive: EvidenceArchive) -> list[RecyclingBatch]:
    start, end = _bounds(archive)
    return list(
        RecyclingBatch.objects.filter(
            hub_id=archive.hub_id, status=RecyclingBatch.Status.CLOSED, closed_at__gte=start, closed_at__lt=end
        )
        .select_related("partner")
        .order_by("closed_at", "id")
    )


def _vendor_certificate_rows(archive: EvidenceArchive, batches: list[RecyclingBatch]) -> Iterator[list]:
    vendor_ids = {batch.partner_id for batch in batches}
    certificates = (
        VendorCertificate.objects.filter(
            vendor_id__in=vendor_ids, valid_from__lte=archive.date_to, expires_on__gte=archive.date_from
        )
        .select_related("vendor")
        .order_by("vendor__name", "scheme", "number")
    )
    for certificate in certificates:
        yield [
            certificate.vendor.name,
            certificate.scheme,
            certificate.number,
            " ".join(streams_ordered(certificate.scope or [])),
            certificate.valid_from.isoformat(),
            certificate.expires_on.isoformat(),
        ]


def _dispatch_rows(batches: list[RecyclingBatch]) -> Iterator[list]:
    for batch in batches:
        kg: dict[str, Decimal] = defaultdict(Decimal)
        count: dict[str, int] = defaultdict(int)
        devices = device_list_with_data_state(queryset=recycling_batch_devices(batch=batch))
        for device in devices:
            for stream in device_streams(device):
                kg[stream] += device.weight_kg or Decimal(0)
                count[stream] += 1
        for stream in streams_ordered(kg):
            yield [
                batch.reference,
                batch.partner.name,
                _iso(batch.closed_at),
                batch.total_weight_kg if batch.total_weight_kg is not None else "",
                stream,
                count[stream],
                kg[stream],
                " ".join(f"{entry.get('scheme')} {entry.get('number')}" for entry in batch.vendor_certificates or []),
            ]


def _progress(archive: EvidenceArchive, **fields) -> None:
    for name, value in fields.items():
        setattr(archive, name, value)
    EvidenceArchive.objects.filter(pk=archive.pk).update(**fields)


def evidence_archive_build(*, archive_id: int, site_url: str = "") -> EvidenceArchive:
    """Build the archive's zip (see the module docstring); a second run of a finished archive does nothing."""
    from donations.documents import certificate_pdf

    archive = EvidenceArchive.objects.select_related("hub").get(pk=archive_id)
    if archive.finished:
        return archive
    start, end = _bounds(archive)
    certificates = list(
        Certificate.objects.filter(donation__hub_id=archive.hub_id, issued_at__gte=start, issued_at__lt=end)
        .select_related("donation", "supersedes")
        .order_by("issued_at", "id")
    )
    _progress(archive, status=EvidenceArchive.Status.RUNNING, total=len(certificates) + FIXED_PARTS, done=0)
    base = (site_url or getattr(settings, "SITE_URL", "") or "").rstrip("/")
    sums: list[tuple[str, str]] = []
    handle, path = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            name = "chain_of_custody.csv"
            header = ["event", "occurred_at", "device", "label_code", "serial_number", "donation", "action"]
            header += ["from_state", "to_state", "actor", "note"]
            sums.append((_write_csv(zf, name, header, _custody_rows(archive)), name))
            _progress(archive, done=archive.done + 1)
            for certificate in certificates:
                name = f"certificates/{certificate.kind}-{certificate.number}.pdf"
                content = certificate_pdf(certificate, verify_url=f"{base}/verify/{certificate.number}/")
                sums.append((_write_bytes(zf, name, content), name))
                _progress(archive, done=archive.done + 1)
            name = "wipe_samples.csv"
            header = ["sample", "donation", "round", "seed", "lot_media", "status", "picked_at", "decided_at"]
            header += ["medium", "device", "media_serial", "wiped_by", "wiped_at", "result", "verified_by"]
            header += ["verified_at", "notes"]
            sums.append((_write_csv(zf, name, header, _sample_rows(archive)), name))
            _progress(archive, done=archive.done + 1)
            batches = _batches(archive)
            name = "vendor_certificates.csv"
            header = ["vendor", "scheme", "number", "waste_streams", "valid_from", "expires_on"]
            sums.append((_write_csv(zf, name, header, _vendor_certificate_rows(archive, batches)), name))
            _progress(archive, done=archive.done + 1)
            name = "dispatches.csv"
            header = ["batch", "vendor", "closed_at", "batch_total_kg", "waste_stream", "devices", "devices_kg"]
            header += ["vendor_certificates_at_dispatch"]
            sums.append((_write_csv(zf, name, header, _dispatch_rows(batches)), name))
            manifest = "".join(f"{digest}  {member}\n" for digest, member in sums)
            zf.writestr("MANIFEST.sha256", manifest)
        digest = hashlib.sha256()
        with open(path, "rb") as built:
            for chunk in iter(lambda: built.read(1 << 20), b""):
                digest.update(chunk)
        size = os.path.getsize(path)
        stored_name = f"evidence/{archive.hub.code}-{archive.date_from}-{archive.date_to}-{archive.pk}.zip"
        with open(path, "rb") as built:
            stored_name = private_storage().save(stored_name, File(built))
    except Exception as error:
        _progress(archive, status=EvidenceArchive.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        raise
    finally:
        os.unlink(path)
    _progress(
        archive,
        status=EvidenceArchive.Status.DONE,
        done=archive.total,
        file_name=stored_name,
        size=size,
        sha256=digest.hexdigest(),
        finished_at=timezone.now(),
    )
    return archive


def evidence_archive_for_user(*, user: AbstractBaseUser, pk: int) -> EvidenceArchive:
    """An archive of a hub the user manages; ``EvidenceArchive.DoesNotExist`` for anyone else (a 404)."""
    return evidence_archive_list_for_user(user=user).get(pk=pk)


def evidence_archive_open(*, archive: EvidenceArchive):
    """The finished archive's zip, opened for reading from the private storage (the caller closes it)."""
    if archive.status != EvidenceArchive.Status.DONE or not archive.file_name:
        raise DonationError(_("The archive is not ready yet: wait until it is built."))
    storage = private_storage()
    if not storage.exists(archive.file_name):  # removed from the disk, or built before the private storage existed
        raise DonationError(_("The archive's file is no longer kept: ask for a new archive of the same range."))
    return storage.open(archive.file_name, "rb")


def evidence_archive_download_name(*, archive: EvidenceArchive) -> str:
    return f"evidence-{archive.hub.code}-{archive.date_from}-{archive.date_to}.zip"
