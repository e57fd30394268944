"""The donor-side tasks a device's move queues: one per donation for a burst of moves, not one per device."""

from unittest import mock

import pytest

from donations import tasks
from donations.factories import DonationFactory
from donations.models import Donation
from refurbishing.factories import DeviceFactory
from refurbishing.services import device_transition

pytestmark = pytest.mark.usefixtures("fresh_cache")  # no "queued" flag left behind by another test


def test_moves_of_one_donation_before_a_worker_starts_queue_one_status_check(
    worker_mode, hubs, staff_be, django_capture_on_commit_callbacks
):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    other = DonationFactory(hub=hubs["BE-BRU"])
    devices = DeviceFactory.create_batch(3, donation=donation)
    other_device = DeviceFactory(donation=other)
    with mock.patch.object(tasks.donation_sync_status, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            for device in [*devices[:2], other_device]:
                device_transition(device=device, action="receive", actor=staff_be)
        # Three commits, two donations: one check each.
        assert sorted(call.args for call in delay.call_args_list) == sorted([(donation.pk,), (other.pk,)])
        tasks.donation_sync_status.apply(args=(donation.pk,))  # the worker starts it: the next move queues again
        with django_capture_on_commit_callbacks(execute=True):
            device_transition(device=devices[2], action="receive", actor=staff_be)
        assert delay.call_count == 3 and delay.call_args.args == (donation.pk,)
    # The check the worker ran found the donation fully arrived only after the last device came in.
    tasks.donation_sync_status.apply(args=(donation.pk,))
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.RECEIVED


def test_without_a_worker_each_move_settles_the_donation_at_once(hubs, staff_be, django_capture_on_commit_callbacks):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    devices = DeviceFactory.create_batch(2, donation=donation)
    for device in devices:
        with django_capture_on_commit_callbacks(execute=True):
            device_transition(device=device, action="receive", actor=staff_be)
        assert Donation.objects.get(pk=donation.pk).status == (
            Donation.Status.RECEIVED if device == devices[-1] else Donation.Status.PLEDGED
        )
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.RECEIVED
