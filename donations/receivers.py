"""Listens to the core's committed transitions and queues donor-side work by id. No logic lives here."""

from django.dispatch import receiver

from refurbishing.signals import device_transitioned

from .tasks import donation_sync_status

# Moves that can settle whether a donation has fully arrived.
ARRIVAL_ACTIONS = frozenset({"receive", "mark_missing"})


@receiver(device_transitioned, dispatch_uid="donations_sync_status_after_arrival")
def queue_status_sync(sender, *, action: str, device_id: int, **kwargs) -> None:
    if action in ARRIVAL_ACTIONS:
        donation_sync_status.delay(device_id)
