"""Donors hear about their donation as it moves, each message once, even when its task runs twice."""

import pytest
from django.core import mail
from django.db import transaction

from donations.factories import DonationFactory
from donations.notifications import donation_certificate_ready_notify
from donations.tasks import donation_notify
from hubs.factories import UserFactory
from hubs.models import NotificationSent
from projects.factories import ProjectFactory
from projects.services import project_allocate_device, shipment_create, shipment_deliver, shipment_ship
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through, wipe_sample_passed
from refurbishing.services import device_transition


@pytest.fixture
def donation(hubs):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    for username in ("it-manager", "csr-officer"):
        donation.donor.users.add(UserFactory(username=username, email=f"{username}@donor.example"))
    donation.donor.users.add(UserFactory(username="gone", email="gone@donor.example", is_active=False))
    return donation


def subjects(donation) -> list[str]:
    return sorted(message.subject.removeprefix(f"{donation.reference}: ") for message in mail.outbox)


def test_a_task_run_twice_sends_its_message_once(donation):
    assert donation_notify.apply(args=[donation.pk, "arrived"]).get() is True
    assert donation_notify.apply(args=[donation.pk, "arrived"]).get() is False

    assert sorted(message.to[0] for message in mail.outbox) == ["csr-officer@donor.example", "it-manager@donor.example"]
    assert NotificationSent.objects.filter(key=f"donation:{donation.pk}:arrived").count() == 1


def test_the_hubs_first_receipt_and_the_full_arrival_are_each_told_once(
    donation, staff_be, django_capture_on_commit_callbacks
):
    first, second, third = DeviceFactory.create_batch(3, donation=donation, hub=donation.hub)

    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=first, action="receive", actor=staff_be)
    assert subjects(donation) == ["the hub has received your devices"] * 2
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=second, action="receive", actor=staff_be)
    assert len(mail.outbox) == 2  # the second device is no news
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=third, action="receive", actor=staff_be)

    assert subjects(donation) == ["the hub has received your devices"] * 2 + ["your devices have arrived"] * 2
    arrived = next(message for message in mail.outbox if "arrived" in message.subject)
    assert "Devices received: 3." in arrived.body
    assert f"http://127.0.0.1:8000/en/donors/donations/{donation.reference}/" in arrived.body


def test_the_first_delivery_is_told_once(donation, staff_be, django_capture_on_commit_callbacks):
    project = ProjectFactory(hub=donation.hub)
    devices = DeviceFactory.create_batch(2, donation=donation, hub=donation.hub)
    for device in devices:
        device_through(device, *TO_CONFIGURED, actor=staff_be)
        project_allocate_device(device=device, project=project, actor=staff_be)
    shipment = shipment_ship(shipment=shipment_create(project=project, actor=staff_be), actor=staff_be)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        shipment_deliver(shipment=shipment, actor=None, beneficiaries=40)

    assert subjects(donation) == ["your first devices have reached a project"] * 2
    assert "2 devices of your donation" in mail.outbox[0].body


def test_the_certificate_is_announced_after_commit_once_per_certificate_number(
    donation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        donation_certificate_ready_notify(donation=donation, certificate_number="CTG-SAN-7Q4K-93XD")
        assert mail.outbox == []  # nothing before the certificate is committed
    with django_capture_on_commit_callbacks(execute=True):
        donation_certificate_ready_notify(donation=donation, certificate_number="CTG-SAN-7Q4K-93XD")

    assert subjects(donation) == ["your data sanitisation certificate is ready"] * 2
    assert "Certificate CTG-SAN-7Q4K-93XD proves it" in mail.outbox[0].body

    # A later correction issues a new certificate: that one is news again.
    with django_capture_on_commit_callbacks(execute=True):
        donation_certificate_ready_notify(donation=donation, certificate_number="CTG-SAN-2B8M-44PL")
    assert len(mail.outbox) == 4


def test_a_rolled_back_certificate_is_never_announced(donation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        donation_certificate_ready_notify(donation=donation, certificate_number="CTG-SAN-GONE")
        raise RuntimeError("the certificate could not be stored")

    assert mail.outbox == []


def test_each_recipient_reads_the_news_in_their_language(donation, django_capture_on_commit_callbacks):
    from hubs.services import user_language_set

    user_language_set(user=donation.donor.users.get(username="it-manager"), language="fr")

    donation_notify.apply(args=[donation.pk, "arrived"])

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert by_recipient["it-manager@donor.example"].subject == f"{donation.reference}\u00a0: vos appareils sont arrivés"
    assert f"/fr/donors/donations/{donation.reference}/" in by_recipient["it-manager@donor.example"].body
    assert by_recipient["csr-officer@donor.example"].subject == f"{donation.reference}: your devices have arrived"


def test_issuing_a_certificate_tells_the_donor_once(donation, staff_be, django_capture_on_commit_callbacks):
    """The issuing service itself announces a new certificate (and a correction, which has a new number)."""
    from donations.services import certificate_reissue, donation_certificate_issue

    device = DeviceFactory(donation=donation, hub=donation.hub)
    device_through(device, "receive", "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        certificate = donation_certificate_issue(donation=donation)
        donation_certificate_issue(donation=donation)  # already issued: nothing new
    announced = subjects(donation)  # one message per language among the donor's users
    assert announced and set(announced) == {"your data sanitisation certificate is ready"}
    assert all(certificate.number in message.body for message in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        certificate_reissue(certificate=certificate, actor=staff_be, reason="A drive was added to the record.")
    assert len(subjects(donation)) == 2 * len(announced)
