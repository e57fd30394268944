"""Test data for places and people: users, hubs, and hub staff."""

import factory
from django.contrib.auth import get_user_model

from hubs.models import LIFECYCLE_STEPS, Hub, HubKind, HubMembership

HUB_CODES = ("BE-BRU", "KE-MBA", "KE-NBO", "ZA-JNB", "CD-FIH")


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose password is their username, unless one is given."""

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


class HubKindFactory(factory.django.DjangoModelFactory):
    """A kind of hub of one's own (the four of the network come with migration 0005)."""

    class Meta:
        model = HubKind
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"kind_{n}")
    name = factory.LazyAttribute(lambda k: k.code.replace("_", " ").capitalize())
    description = "Does what its steps say."
    steps = factory.LazyFunction(lambda: list(LIFECYCLE_STEPS))
    takes_company_donations = True
    sends_to_projects = True


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub
        django_get_or_create = ("code",)

    code = factory.Iterator(HUB_CODES)
    name = factory.LazyAttribute(lambda h: f"Hub {h.code}")
    country = factory.LazyAttribute(lambda h: h.code[:2])
    city = factory.LazyAttribute(lambda h: h.code[3:].title())
    # One of the kinds migration 0005 creates; a refurbishing hub does every step, takes donations and serves projects.
    kind = factory.LazyFunction(lambda: HubKind.objects.get(code=HubKind.REFURBISHING_HUB))


class StaffFactory(UserFactory):
    """A technician of one hub: ``StaffFactory(hub=hub)``."""

    is_staff = True

    @factory.post_generation
    def hub(self, create, extracted, **kwargs):
        if create and extracted is not None:
            HubMembership.objects.get_or_create(user=self, hub=extracted)


class PartnerFactory(factory.django.DjangoModelFactory):
    """A refurbishment partner; ``users=[...]`` gives it accounts."""

    class Meta:
        model = "hubs.Partner"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Refurb Partner {n}")

    @factory.post_generation
    def users(self, create, extracted, **kwargs):
        if create and extracted:
            self.users.add(*extracted)
