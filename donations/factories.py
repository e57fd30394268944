"""Test data for the donor side: donor organisations and their pledged donations."""

import factory

from donations.models import Donation, Donor
from hubs.factories import HubFactory


class DonorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Donor

    legal_name = factory.Sequence(lambda n: f"Donor Company {n} NV")
    registration_number = factory.Sequence(lambda n: f"BE{n:010d}")
    country = "BE"
    address = "Rue de la Loi 1, 1000 Brussels"


class DonationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Donation

    reference = factory.Sequence(lambda n: f"DON-2026-{n:06d}")
    donor = factory.SubFactory(DonorFactory)
    hub = factory.SubFactory(HubFactory, code="BE-BRU")
    pickup_address = "Rue de la Loi 1, 1000 Brussels"
