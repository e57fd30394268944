"""Listens to the core's committed transitions and queues donor-side work by id. No logic lives here.

Each task brings one donation up to date, so it is queued once per donation for a burst of moves (a bulk move of
200 of its devices queues one of each, not 200): ``common.task_queue.delay_once``.
"""

from django.dispatch import receiver

from common.task_queue import delay_once
from refurbishing.signals import device_transitioned, recycling_batch_dispatched, wipe_sample_decided

from .notifications import NOTIFICATION_AFTER_ACTION
from .tasks import (
    donation_certificate_issue_if_ready,
    donation_notify_after_transition,
    donation_sync_status,
    e_resource_allocate,
)

# Moves that can settle whether a donation has fully arrived.
ARRIVAL_ACTIONS = frozenset({"receive", "mark_missing"})
# Moves after which the last storage device of a donation may be accounted for (wiped, recycled or missing).
CERTIFICATE_ACTIONS = frozenset({"sanitise", "recycle", "mark_missing", "rewipe"})


@receiver(device_transitioned, dispatch_uid="donations_sync_status_after_arrival")
def queue_status_sync(sender, *, action: str, donation_id: int, **kwargs) -> None:
    if action in ARRIVAL_ACTIONS:
        delay_once(donation_sync_status, donation_id)


@receiver(device_transitioned, dispatch_uid="donations_notify_after_transition")
def queue_notification(sender, *, action: str, donation_id: int, **kwargs) -> None:
    # Only the moves that can be news; the task sends each message once per donation.
    if action in NOTIFICATION_AFTER_ACTION:
        delay_once(donation_notify_after_transition, donation_id, action)


@receiver(device_transitioned, dispatch_uid="donations_certificate_after_wipe")
def queue_certificate_issue(sender, *, action: str, donation_id: int, **kwargs) -> None:
    if action in CERTIFICATE_ACTIONS:
        delay_once(donation_certificate_issue_if_ready, donation_id)


@receiver(recycling_batch_dispatched, dispatch_uid="donations_e_resource_after_dispatch")
def queue_e_resource_allocation(sender, *, batch_id: int, **kwargs) -> None:
    # Every dispatched batch: the service itself tells a batch at an African hub from the others.
    delay_once(e_resource_allocate, batch_id)


@receiver(wipe_sample_decided, dispatch_uid="donations_certificate_after_wipe_sample")
def queue_certificate_after_sample(sender, *, donation_id: int, **kwargs) -> None:
    # A passed sample lets the certificate issue; a failed one changes nothing until the lot is wiped again.
    delay_once(donation_certificate_issue_if_ready, donation_id)
