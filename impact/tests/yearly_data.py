"""Test data for the yearly report: a donor's devices moved through the real lifecycle services, and an independent
recount of what the report should say, straight from the devices and their events."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from donations.factories import DonationFactory
from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from impact.models import EmissionFactor
from impact.reports import yearly_report_bounds
from projects.factories import ProjectFactory
from projects.models import Project
from projects.services import (
    delivery_correct,
    project_allocate_device,
    shipment_create,
    shipment_deliver,
    shipment_ship,
)
from refurbishing.factories import (
    TO_CONFIGURED,
    DeviceFactory,
    RecyclingPartnerFactory,
    VendorCertificateFactory,
    device_through,
)
from refurbishing.models import Device, DeviceEvent, RecyclingBatch
from refurbishing.recycling.services import recycling_batch_add_waiting, recycling_batch_close
from refurbishing.services import device_transition, moves_dated


def hub_manager(hub, username: str):
    user = StaffFactory(username=username)
    hub_membership_add(hub=hub, user=user, role="manager")
    return user


def register(donor, hub, count: int, **fields) -> list[Device]:
    """``weight_kg=None``: devices whose weight is not known at all (recorded before the defaults table, whose
    registration would otherwise give them their category's default), which the report counts as unknown."""
    donation = DonationFactory(donor=donor, hub=hub)
    devices = DeviceFactory.create_batch(count, donation=donation, hub=hub, **fields)
    if "weight_kg" in fields and fields["weight_kg"] is None:
        Device.objects.filter(pk__in=[device.pk for device in devices]).update(
            weight_kg=None, weight_basis="", weight_source=""
        )
        for device in devices:
            device.refresh_from_db()
    return devices


def reuse(devices: list[Device], *, project: Project, actor, people: int, steps=TO_CONFIGURED):
    """Refurbish (``steps``), allocate, ship and deliver ``devices`` to ``project``, reaching ``people``."""
    for device in devices:
        device_through(device, *steps, actor=actor)
        project_allocate_device(device=device, project=project, actor=actor)
    shipment = shipment_ship(shipment=shipment_create(project=project, actor=actor), actor=actor)
    return shipment_deliver(shipment=shipment, actor=None, beneficiaries=people)


def recycle(devices: list[Device], *, hub, actor, vendor: str, kg: str, reference: str) -> RecyclingBatch:
    """Fail ``devices``' inspection and dispatch them in one batch to ``vendor``, weighing ``kg`` in all."""
    partner = RecyclingPartnerFactory(name=vendor, country=hub.country)
    VendorCertificateFactory(vendor=partner)
    batch = RecyclingBatch.objects.create(hub=hub, partner=partner, reference=reference)
    for device in devices:
        device_through(device, "receive", "sanitise", actor=actor)
        device_transition(device=device, action="inspect", actor=actor, record={"passed": False})
    recycling_batch_add_waiting(batch=batch, actor=actor)
    return recycling_batch_close(batch=batch, actor=actor, total_weight_kg=Decimal(kg))


def donor_year(donor, hubs, *, year: int) -> dict[str, Any]:
    """A few hundred devices of ``donor`` across reuse (two countries, three kinds of project, a corrected reach),
    recycling (two vendors), missing, received only, some without a weight, and a few received the year before.

    Every move of the year is dated at one moment (now, when the building starts), so a clock that ticks past
    midnight while the test builds (CI's 31 December 23:59) cannot split the data between two years."""
    mombasa, brussels = hubs["KE-MBA"], hubs["BE-BRU"]
    ke, be = hub_manager(mombasa, "manager-ke-mba"), hub_manager(brussels, "manager-be-bru")
    school = ProjectFactory(hub=mombasa, kind=Project.Kind.EDUCATION, country="KE", expected_beneficiaries=10_000)
    clinic = ProjectFactory(hub=mombasa, kind=Project.Kind.MEDICAL, country="TZ", expected_beneficiaries=10_000)
    makers = ProjectFactory(hub=brussels, kind=Project.Kind.ENTREPRENEURSHIP, country="BE", expected_beneficiaries=500)
    now = timezone.now()
    start, _end = yearly_report_bounds(year)
    # Received just before the year began, reused in it: reused this year, but not received this year.
    early = start - timedelta(minutes=5)
    with moves_dated(early - timedelta(minutes=1)):
        before = register(donor, mombasa, 12)
    with moves_dated(early):
        for device in before:
            device_through(device, "receive", actor=ke)
    with moves_dated(now):
        reached = reuse(register(donor, mombasa, 60), project=school, actor=ke, people=600)
        reuse(register(donor, mombasa, 30, category="desktop", weight_kg=None), project=clinic, actor=ke, people=90)
        reuse(register(donor, brussels, 25, category="monitor"), project=makers, actor=be, people=25)
        reuse(before, project=school, actor=ke, people=40, steps=TO_CONFIGURED[1:])
        confirmation = reached.confirmations.get()
        delivery_correct(confirmation=confirmation, actor=ke, people_served=660, reason="A second shift uses the lab.")
        recycle(
            register(donor, mombasa, 40),
            hub=mombasa,
            actor=ke,
            vendor="Mombasa Recyclers",
            kg="97.30",
            reference="RB-1",
        )
        recycle(
            register(donor, brussels, 35, category="monitor", model="Philips 107 CRT", weight_kg=None),
            hub=brussels,
            actor=be,
            vendor="Brussels Metal",
            kg="410.00",
            reference="RB-2",
        )
        for device in register(donor, mombasa, 20):
            device_transition(device=device, action="mark_missing", actor=ke)
        for device in register(donor, brussels, 28, weight_kg=None):
            device_through(device, "receive", actor=be)
        register(donor, brussels, 10)  # pledged, never moved: in no figure
    return {"managers": (ke, be)}


OUTCOME_ACTIONS = ("deliver", "recycle", "mark_missing", "transfer_missing")


def recount(donor, year: int) -> dict[str, Any]:
    """What the report should say, counted a different way: each device of the donor, its events read one by one."""
    start, end = yearly_report_bounds(year)
    factors = {f.applies_to: f.kg_co2e for f in EmissionFactor.objects.all()}
    countries = dict(Project.objects.values_list("pk", "country"))
    figures: dict[str, Any] = defaultdict(int)
    kg: dict[str, Decimal] = defaultdict(Decimal)
    by_country: dict[str, int] = defaultdict(int)
    by_vendor: dict[str, Decimal] = defaultdict(Decimal)
    for device in Device.objects.filter(donation__donor=donor).prefetch_related("events"):
        events = list(device.events.all())
        in_year = [e for e in events if start <= e.occurred_at < end]
        received = [e for e in in_year if e.action == "receive"]
        outcome = next(
            (e for e in in_year if e.action in ("deliver", "recycle", "mark_missing", "transfer_missing")), None
        )
        if received or outcome:
            figures["lines"] += 1
        if received:
            figures["received"] += 1
            if outcome is None:
                figures["received_still_in_preparation"] += 1
        if outcome is None:
            continue
        if outcome.action == "deliver":
            figures["reused"] += 1
            people = outcome.data["beneficiaries"] + sum(
                e.data.get("beneficiaries_delta", 0) for e in events if e.action == "correct_reach"
            )
            figures["people_reached"] += people
            by_country[countries[outcome.data["project_id"]]] += 1
            if device.weight_kg is None:
                figures["reused_weight_unknown"] += 1
            else:
                kg["prepared_for_reuse_kg"] += device.weight_kg
            kg["co2e_avoided_by_reuse_kg"] += factors.get(device.category, Decimal(0))
        elif outcome.action == "recycle":
            figures["recycled"] += 1
            weight = Decimal(outcome.data["weight_kg"])
            kg["recycled_kg"] += weight
            kg["co2e_avoided_by_recycling_kg"] += weight * factors[EmissionFactor.EWASTE]
            by_vendor[device.recycling_item.batch.partner.name] += weight
        else:
            figures["missing"] += 1
    return {"figures": dict(figures), "kg": dict(kg), "by_country": dict(by_country), "by_vendor": dict(by_vendor)}


def events_of(donor) -> int:
    return DeviceEvent.objects.filter(device__donation__donor=donor).count()
