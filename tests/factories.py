"""Test data in one place. Devices are created pledged and moved with the real lifecycle service."""

import factory
from django.contrib.auth import get_user_model

from donations.models import Donation, Donor
from hubs.models import Hub, HubMembership
from projects.models import Project
from refurbishing.models import Device


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or self.username)
        if create:
            self.save(update_fields=["password"])


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub
        django_get_or_create = ("code",)

    code = factory.Iterator(["BE-BRU", "KE-MBA", "KE-NBO", "ZA-JNB", "CD-FIH"])
    name = factory.LazyAttribute(lambda h: f"Hub {h.code}")
    country = factory.LazyAttribute(lambda h: h.code[:2])
    city = factory.LazyAttribute(lambda h: h.code[3:].title())


class StaffFactory(UserFactory):
    """A technician of one hub: ``StaffFactory(hub=hub)``."""

    is_staff = True

    @factory.post_generation
    def hub(self, create, extracted, **kwargs):
        if create and extracted is not None:
            HubMembership.objects.get_or_create(user=self, hub=extracted)


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


class DeviceFactory(factory.django.DjangoModelFactory):
    """A pledged device. Move it with ``refurbishing.services.device_transition``."""

    class Meta:
        model = Device

    donation = factory.SubFactory(DonationFactory)
    hub = factory.LazyAttribute(lambda d: d.donation.hub)
    category = Device.Category.LAPTOP
    manufacturer = "Dell"
    model = "Latitude 5490"
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    has_storage_media = True
    ram_gb = 8
    storage_gb = 256
    year = 2019
    weight_kg = "1.80"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the real service, so every test device has its pledge event like a real one.
        from refurbishing.services import device_register_many

        donation, hub = kwargs.pop("donation"), kwargs.pop("hub")
        return device_register_many(donation=donation, hub=hub, actor=None, rows=[kwargs])[0]


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organisation = factory.Sequence(lambda n: f"School {n}")
    name = factory.Sequence(lambda n: f"Digital classroom {n}")
    kind = Project.Kind.EDUCATION
    country = factory.LazyAttribute(lambda p: p.hub.country)
    hub = factory.SubFactory(HubFactory, code="BE-BRU")
    expected_beneficiaries = 100
