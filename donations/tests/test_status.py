from django.core import mail

from donations.models import Donation
from donations.services import donation_sync_status
from refurbishing.services import device_transition
from tests.factories import DeviceFactory, DonationFactory, UserFactory


def test_donation_is_received_and_the_donor_told_once_when_nothing_is_awaited(
    hubs, staff_be, django_capture_on_commit_callbacks
):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    donation.donor.users.add(UserFactory(username="it-manager", email="it@donor.example"))
    first, second = DeviceFactory.create_batch(2, donation=donation, hub=hubs["BE-BRU"])
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=first, action="receive", actor=staff_be)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PLEDGED
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=second, action="mark_missing", actor=staff_be, note="not in the van")
    donation.refresh_from_db()
    assert donation.status == Donation.Status.RECEIVED
    assert donation.received_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@donor.example"]
    assert "Devices received: 1." in mail.outbox[0].body
    assert "never arrived: 1" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        assert donation_sync_status(donation_id=donation.pk) is False  # a retried task changes nothing
    assert len(mail.outbox) == 1
