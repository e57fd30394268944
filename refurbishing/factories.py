"""Test data for the core: devices are created pledged and moved with the real lifecycle service."""

import uuid
from datetime import timedelta

import factory
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from hubs.models import Hub
from refurbishing.models import Device, RecyclingPartner, SyncedMove, VendorCertificate, WasteStream
from refurbishing.services import device_register_many, device_transition

# A wipe as a technician records it (NIST SP 800-88 purge, verified); the ``sanitisation`` fixture copies it.
SANITISATION = {
    "method": "purge",
    "technique": "NVMe Format with crypto erase",
    "tool": "nwipe",
    "tool_version": "0.34",
    "verification": "full",
    "verified": True,
}
INSPECTION_PASSED = {"passed": True, "grade": "A"}
# What a technician installs before allocation, as the ``configure`` move records it.
CONFIGURATION = {
    "operating_system": "Ubuntu",
    "os_version": "24.04 LTS",
    "keyboard_layout": "US",
    "language": "English",
    "licence": "free",
}
# From pledged to ready to allocate, for a device with storage media.
TO_CONFIGURED = ("receive", "sanitise", "inspect", "configure")


class DeviceFactory(factory.django.DjangoModelFactory):
    """A pledged device, registered through the service with its pledge event like a real one.

    Its donation comes from the donor side by name, as the model refers to ``"donations.Donation"``.
    """

    class Meta:
        model = Device

    donation = factory.SubFactory("donations.factories.DonationFactory")
    hub = factory.LazyAttribute(lambda d: d.donation.hub)
    category = Device.Category.LAPTOP
    manufacturer = "Dell"
    model = "Latitude 5490"
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    has_storage_media = True
    ram_gb = 8
    storage_gb = 256
    year = 2019
    weight_kg = "1.80"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        donation, hub = kwargs.pop("donation"), kwargs.pop("hub")
        return device_register_many(donation=donation, hub=hub, actor=None, rows=[kwargs])[0]


def device_through(device: Device, *actions: str, actor: AbstractBaseUser | None) -> Device:
    """Move ``device`` through ``actions`` with the lifecycle service; a wipe records ``SANITISATION``, an
    inspection passes with grade A and a configuration records ``CONFIGURATION``."""
    records = {"sanitise": SANITISATION, "inspect": INSPECTION_PASSED, "configure": CONFIGURATION}
    for action in actions:
        device_transition(device=device, action=action, actor=actor, record=records.get(action))
    return device


def offline_move_sent(
    device: Device, action: str, *, actor: AbstractBaseUser, version: int | None = None, fields: dict | None = None
) -> SyncedMove:
    """``action`` on ``device`` as an offline station sends it (``POST /api/v1/sync/``'s service), and its record:
    applied, refused by a guard, or a conflict when ``version`` is older than the device's."""
    from refurbishing.scan.sync import QueuedMove, sync_moves_apply

    move = QueuedMove(
        id=uuid.uuid4(),
        code=device.label_code,
        action=action,
        fields=fields or {},
        version=device.version if version is None else version,
        occurred_at=timezone.now() - timedelta(minutes=5),
        actor_id=actor.pk,
    )
    sync_moves_apply(actor=actor, moves=[move])
    return SyncedMove.objects.get(uuid=move.id)


def devices_received(count: int, *, hub: Hub, actor: AbstractBaseUser | None) -> list[Device]:
    """``count`` devices pledged for ``hub`` (a donation each) and received there."""
    devices = DeviceFactory.create_batch(count, donation__hub=hub)
    return [device_through(device, "receive", actor=actor) for device in devices]


class RecyclingPartnerFactory(factory.django.DjangoModelFactory):
    """A downstream vendor, with no certificate: give it one with ``VendorCertificateFactory``."""

    class Meta:
        model = RecyclingPartner
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Recycler {n}")
    country = "BE"
    certification = RecyclingPartner.Certification.WEEELABEX


# What a recycler of whole devices is certified for, short of destroying data: every stream but data-bearing devices.
STREAMS_BUT_DATA = [stream for stream in WasteStream.values if stream != WasteStream.DATA_BEARING_DEVICES]


class VendorCertificateFactory(factory.django.DjangoModelFactory):
    """A certificate valid from a year ago to a year from now, for every stream but destroying data."""

    class Meta:
        model = VendorCertificate

    vendor = factory.SubFactory(RecyclingPartnerFactory)
    scheme = VendorCertificate.Scheme.R2V3
    number = factory.Sequence(lambda n: f"R2-{100000 + n}")
    scope = factory.LazyFunction(lambda: list(STREAMS_BUT_DATA))
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


def wipe_sample_passed(donation, *, verifier: AbstractBaseUser | None = None):
    """Draw the donation's wipe verification sample (as asking for its certificate does) and pass every picked
    medium, re-verified by ``verifier`` (by default a new technician of the donation's hub, who wiped nothing)."""
    from django.db import transaction

    from hubs.factories import StaffFactory
    from refurbishing.hardware.sampling import wipe_sample_item_verify, wipe_sample_pick

    verifier = verifier or StaffFactory(hub=donation.hub)
    with transaction.atomic():
        sample = wipe_sample_pick(donation_id=donation.pk, hub_id=donation.hub_id)
    for item in sample.items.filter(result="pending"):
        wipe_sample_item_verify(item=item, actor=verifier, passed=True)
    sample.refresh_from_db()
    return sample
