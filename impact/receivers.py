"""Listens to the core's committed transitions and queues the fold. No logic lives here."""

from django.dispatch import receiver

from donations.signals import e_resource_allocated
from refurbishing.signals import device_transitioned

from .services import impact_fold_is_suspended
from .tasks import impact_fold_request

# Named, so the receiver is connected once however often this module is imported.
FOLD_RECEIVER_UID = "impact_fold_after_transition"


@receiver(device_transitioned, dispatch_uid=FOLD_RECEIVER_UID)
def queue_fold_after_transition(sender, **kwargs) -> None:
    # A bulk job inside impact_fold_suspended() folds once itself when it ends.
    if impact_fold_is_suspended():
        return
    impact_fold_request()


@receiver(e_resource_allocated, dispatch_uid="impact_fold_after_e_resource_allocation")
def queue_fold_after_allocation(sender, **kwargs) -> None:
    if impact_fold_is_suspended():
        return
    impact_fold_request()
