"""Test data for the beneficiary side: projects, and shipments built through the real services."""

import factory
from django.contrib.auth.models import AbstractBaseUser

from hubs.factories import HubFactory
from projects.models import Project, Shipment
from projects.services import (
    project_allocate_device,
    project_apply,
    project_review,
    shipment_create,
    shipment_deliver,
    shipment_ship,
)
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through
from refurbishing.models import Device
from refurbishing.services import device_transition


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


def configured_device(*, hub, actor: AbstractBaseUser, grade: str = "A", **fields) -> Device:
    """A device pledged at ``hub``, wiped, inspected (with ``grade``) and configured there: ready to allocate."""
    device = DeviceFactory(donation__hub=hub, **fields)
    device_through(device, "receive", *(["sanitise"] if device.has_storage_media else []), actor=actor)
    device_transition(device=device, action="inspect", actor=actor, record={"passed": True, "grade": grade})
    return device_through(device, "configure", actor=actor)


def application_approved(
    *, coordinator: AbstractBaseUser, manager: AbstractBaseUser, hub, requests: list[dict], expected: int = 100
) -> Project:
    """A coordinator's application for ``requests`` at ``hub``, approved by ``manager``."""
    project = project_apply(
        applicant=coordinator,
        organisation="Mombasa Girls Secondary",
        name="Computer lab",
        kind=Project.Kind.EDUCATION,
        country=hub.country,
        place="Mombasa",
        hub=hub,
        expected_beneficiaries=expected,
        requests=requests,
    )
    project_review(project=project, reviewer=manager, decision=Project.Status.APPROVED)
    project.refresh_from_db()
    return project
