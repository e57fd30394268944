"""Donation services: a donation's status follows its devices, and the donor is told once."""

from django.core import mail
from django.utils import translation

from donations.factories import DonationFactory
from donations.models import Donation
from donations.services import donation_sync_status
from hubs.factories import UserFactory
from hubs.services import user_language_set
from refurbishing.factories import DeviceFactory
from refurbishing.services import device_transition


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
    # The hub's first receipt is news of its own; the arrival is not yet.
    assert [message.subject for message in mail.outbox] == [f"{donation.reference}: the hub has received your devices"]
    mail.outbox.clear()

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


def test_the_arrival_email_is_in_each_recipients_own_language(hubs, staff_be, django_capture_on_commit_callbacks):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    for username, language in [("it-brussels", "fr"), ("csr-gent", "nl"), ("cfo", None)]:
        user = UserFactory(username=username, email=f"{username}@donor.example")
        donation.donor.users.add(user)
        if language:
            user_language_set(user=user, language=language)
    first, second = DeviceFactory.create_batch(2, donation=donation, hub=hubs["BE-BRU"])

    # The technician works in English; each donor reads the news in the language of their own profile.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        device_transition(device=first, action="receive", actor=staff_be)
        device_transition(device=second, action="mark_missing", actor=staff_be)

    # Each recipient gets the hub's first receipt, then the arrival: the last message to each is the arrival.
    assert len(mail.outbox) == 6
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == ["cfo@donor.example", "csr-gent@donor.example", "it-brussels@donor.example"]
    french, dutch, english = (
        by_recipient["it-brussels@donor.example"],
        by_recipient["csr-gent@donor.example"],
        by_recipient["cfo@donor.example"],
    )
    assert french.subject == f"{donation.reference}\u00a0: vos appareils sont arrivés"
    assert "Appareils reçus\u00a0: 1." in french.body and "jamais arrivés\u00a0: 1" in french.body
    assert dutch.subject == f"{donation.reference}: uw apparaten zijn aangekomen"
    assert "Ontvangen apparaten: 1." in dutch.body
    assert english.subject == f"{donation.reference}: your devices have arrived"
    assert "Devices received: 1." in english.body
