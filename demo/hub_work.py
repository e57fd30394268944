"""Demo data for a hub's managers: recycling partners, an open e-waste batch per hub, a container on its way.

Made by the services, like the rest of the demo: ``seed_demo`` calls ``seed_hub_work`` once the devices exist.
"""

from typing import Any

from hubs.models import Hub
from refurbishing.models import Device, DeviceState, RecyclingPartner
from refurbishing.recycling.services import recycling_batch_add_waiting, recycling_batch_create
from refurbishing.transfers.services import transfer_send

PARTNERS = (
    # name, country, certification, contact
    ("WorldLoop", "BE", RecyclingPartner.Certification.WEEELABEX, "info@worldloop.example"),
    ("Mombasa E-Waste Recyclers", "KE", RecyclingPartner.Certification.OTHER, "ops@mombasa-recyclers.example"),
)
# A sea container from the Brussels hub to Mombasa, with a few received devices, waiting to be checked in.
TRANSFER = ("BE-BRU", "KE-MBA", "MSCU 482915-3", 3)


def seed_hub_work(*, hubs: dict[str, Hub], users: dict[str, Any]) -> None:
    partners = [
        RecyclingPartner.objects.create(name=name, country=country, certification=certification, contact=contact)
        for name, country, certification, contact in PARTNERS
    ]
    for code, hub in hubs.items():
        partner = partners[0] if code.startswith("BE") else partners[-1]
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
