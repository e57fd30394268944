"""Demo data for a hub's managers: recycling partners (downstream vendors) with their certificates, an open e-waste
batch per hub that recycles, a container on its way.

Made by the services, like the rest of the demo: ``seed_demo`` calls ``seed_hub_work`` once the devices exist.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from hubs.models import Hub
from hubs.selectors import hub_performs
from refurbishing.models import Device, DeviceState, RecyclingPartner, VendorCertificate, WasteStream
from refurbishing.recycling.services import (
    recycling_batch_add_waiting,
    recycling_batch_create,
    vendor_certificate_record,
)
from refurbishing.transfers.services import transfer_send

PARTNERS = (
    # name, country, certification, contact
    ("WorldLoop", "BE", RecyclingPartner.Certification.WEEELABEX, "info@worldloop.example"),
    ("Mombasa E-Waste Recyclers", "KE", RecyclingPartner.Certification.OTHER, "ops@mombasa-recyclers.example"),
    ("Gauteng E-Waste Recovery", "ZA", RecyclingPartner.Certification.R2, "info@gauteng-ewaste.example"),
)
# Which vendor each country's hubs send their batches to.
VENDOR_BY_COUNTRY = {"BE": "WorldLoop", "ZA": "Gauteng E-Waste Recovery"}
DEFAULT_VENDOR = "Mombasa E-Waste Recyclers"
W = WasteStream
# Each vendor's certificates, dated from the day the demo is seeded: (vendor, scheme, number, scope, valid from and
# expires on as days from today). WorldLoop's e-Stewards certificate (its data destruction) expires within 30 days,
# so the expiry reminder has something to tell; the Mombasa recycler's NEMA licence has expired, so closing a Kenyan
# batch with laptops in it is refused (batteries, circuit boards) until it is renewed. The Johannesburg recycler's R2v3
# certificate is valid, so the South African batch is dispatched (``demo.e_resource``) and its kilograms compensate a
# donor's e-Resource commitment.
CERTIFICATES = (
    (
        "WorldLoop",
        VendorCertificate.Scheme.WEEELABEX,
        "WLX-BE-0117",
        [W.BATTERIES, W.CIRCUIT_BOARDS, W.CRT_GLASS, W.PLASTICS, W.METALS],
        -400,
        330,
    ),
    (
        "WorldLoop",
        VendorCertificate.Scheme.E_STEWARDS,
        "ESV-2291",
        [W.DATA_BEARING_DEVICES, W.CIRCUIT_BOARDS],
        -345,
        20,
    ),
    (
        "Mombasa E-Waste Recyclers",
        VendorCertificate.Scheme.LOCAL_LICENCE,
        "NEMA/EWL/2024/0412",
        [W.BATTERIES, W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS],
        -400,
        -35,
    ),
    ("Mombasa E-Waste Recyclers", VendorCertificate.Scheme.ISO_14001, "KE-EMS-7731", [W.PLASTICS, W.METALS], -200, 900),
    (
        "Gauteng E-Waste Recovery",
        VendorCertificate.Scheme.R2V3,
        "R2-ZA-20931",
        [W.BATTERIES, W.CIRCUIT_BOARDS, W.CRT_GLASS, W.PLASTICS, W.METALS],
        -150,
        580,
    ),
)
# A sea container from the Brussels hub to Mombasa, with a few received devices, waiting to be checked in.
TRANSFER = ("BE-BRU", "KE-MBA", "MSCU 482915-3", 3)


def seed_hub_work(*, hubs: dict[str, Hub], users: dict[str, Any]) -> None:
    partners = [
        RecyclingPartner.objects.create(name=name, country=country, certification=certification, contact=contact)
        for name, country, certification, contact in PARTNERS
    ]
    today = timezone.localdate()
    for vendor_name, scheme, number, scope, starts, ends in CERTIFICATES:
        vendor_certificate_record(
            vendor=next(partner for partner in partners if partner.name == vendor_name),
            scheme=scheme,
            number=number,
            scope=scope,
            valid_from=today + timedelta(days=starts),
            expires_on=today + timedelta(days=ends),
        )
    for code, hub in hubs.items():
        if not hub_performs(hub, "recycle"):
            continue  # a partner-run site recycles nothing itself
        vendor_name = VENDOR_BY_COUNTRY.get(hub.country, DEFAULT_VENDOR)
        partner = next(partner for partner in partners if partner.name == vendor_name)
        batch = recycling_batch_create(
            hub=hub, partner=partner, reference=f"RB-{code}-001", actor=users[f"staff-{code.lower()}"]
        )
        recycling_batch_add_waiting(batch=batch, actor=users[f"staff-{code.lower()}"])
    origin, destination, reference, count = TRANSFER
    # The newest received devices travel, so the older ones stay for the demo's work at the origin.
    devices = Device.objects.filter(hub=hubs[origin], state=DeviceState.RECEIVED).order_by("-pk")[:count]
    transfer_send(
        from_hub=hubs[origin],
        to_hub=hubs[destination],
        devices=list(devices),
        reference=reference,
        actor=users[f"manager-{origin.lower()}"],
    )
