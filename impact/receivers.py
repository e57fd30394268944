"""Listens to the core's committed transitions and queues the fold. No logic lives here."""

from django.dispatch import receiver

from refurbishing.signals import device_transitioned

from .tasks import impact_fold_events


@receiver(device_transitioned, dispatch_uid="impact_fold_after_transition")
def queue_fold_after_transition(sender, **kwargs) -> None:
    impact_fold_events.delay()
