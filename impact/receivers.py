"""Listens to the core's committed transitions and queues the fold. No logic lives here."""

from django.dispatch import receiver

from refurbishing.signals import device_transitioned

from .tasks import impact_fold_request

# Named, so a bulk job (seed_demo) can pause this receiver and reconnect exactly it.
FOLD_RECEIVER_UID = "impact_fold_after_transition"


@receiver(device_transitioned, dispatch_uid=FOLD_RECEIVER_UID)
def queue_fold_after_transition(sender, **kwargs) -> None:
    impact_fold_request()
