"""Test data for the beneficiary side: projects, and shipments built through the real services."""

import factory
from django.contrib.auth.models import AbstractBaseUser

from hubs.factories import HubFactory
from projects.models import Project, Shipment
from projects.services import project_allocate_device, shipment_create, shipment_deliver, shipment_ship
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organisation = factory.Sequence(lambda n: f"School {n}")
    name = factory.Sequence(lambda n: f"Digital classroom {n}")
    kind = Project.Kind.EDUCATION
    country = factory.LazyAttribute(lambda p: p.hub.country)
    hub = factory.SubFactory(HubFactory, code="BE-BRU")
    expected_beneficiaries = 100


def shipment_shipped(*, project: Project, actor: AbstractBaseUser | None, count: int = 1) -> Shipment:
    """``count`` devices pledged at the project's hub, refurbished, allocated to it and shipped together."""
    for device in DeviceFactory.create_batch(count, donation__hub=project.hub):
        device_through(device, *TO_CONFIGURED, actor=actor)
        project_allocate_device(device=device, project=project, actor=actor)
    return shipment_ship(shipment=shipment_create(project=project, actor=actor), actor=actor)


def shipment_delivered(*, project: Project, actor: AbstractBaseUser | None, count: int, beneficiaries: int) -> Shipment:
    """As :func:`shipment_shipped`, then confirmed delivered to ``beneficiaries`` people by the coordinator."""
    shipment = shipment_shipped(project=project, actor=actor, count=count)
    return shipment_deliver(shipment=shipment, actor=None, beneficiaries=beneficiaries)
