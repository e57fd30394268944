"""The demo data command: every state through the real services, exact historic totals, idempotent, guarded."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.urls import reverse

from demo import data
from donations.models import Certificate, Donation, Donor, EResourceAllocation, EResourceCommitment
from donations.selectors import certificate_pending_devices
from hubs.models import Hub, HubMembership
from impact.models import ImpactCounter, Metric, OpeningBalance, YearlyReport
from impact.reports import yearly_report_current_year, yearly_report_list_for_user
from impact.selectors import impact_summary
from projects.models import Project, Shipment
from refurbishing.models import Device, DeviceEvent, DeviceState

User = get_user_model()
MODELS = (
    Hub,
    HubMembership,
    User,
    Donor,
    Donation,
    Device,
    DeviceEvent,
    Project,
    Shipment,
    OpeningBalance,
    Certificate,
    EResourceCommitment,
    EResourceAllocation,
    YearlyReport,
)


def snapshot():
    return {model.__name__: model.objects.count() for model in MODELS} | {
        "counters": list(ImpactCounter.objects.order_by("id").values_list("metric", "hub_id", "value"))
    }


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seed_demo_loads_every_state_through_the_services_and_is_idempotent(settings, db, client):
    settings.DEBUG = True

    output = seed()

    assert "Demo data loaded." in output
    assert set(Hub.objects.values_list("code", flat=True)) == {"BE-BRU", "KE-MBA", "KE-NBO", "ZA-JNB", "CD-FIH"}
    assert Hub.objects.get(code="CD-FIH").city == "Kinshasa"
    # The kinds of Close the Gap's network, and work that keeps to them: Kinshasa's partner-run site takes no
    # company donations (its devices come from Brussels in a container), Johannesburg's ITAD social enterprise
    # sends no devices to projects.
    assert dict(Hub.objects.values_list("code", "kind__code")) == data.HUB_KINDS
    assert not Donation.objects.filter(hub__code="CD-FIH").exists()
    kinshasa = Device.objects.filter(hub__code="CD-FIH")
    assert kinshasa.filter(state=DeviceState.DELIVERED).exists()
    assert not kinshasa.exclude(donation__hub__code="BE-BRU").exists()
    assert not Project.objects.filter(hub__code="ZA-JNB").exists()
    assert not Device.objects.filter(hub__code="ZA-JNB", state__in=["allocated", "shipped", "delivered"]).exists()
    states = dict(Device.objects.values_list("state").annotate(n=Count("id")))
    assert set(states) == set(DeviceState.values)
    assert 250 <= sum(states.values()) <= 400
    # Every device has its chain of custody: one event per move, the first one the pledge.
    assert not Device.objects.annotate(n=Count("events")).filter(n=0).exists()
    assert DeviceEvent.objects.filter(action="pledge").count() == Device.objects.count()
    delivered = Device.objects.filter(state=DeviceState.DELIVERED).first()
    assert list(delivered.events.values_list("action", flat=True)) == [
        "pledge",
        "receive",
        *(["sanitise"] if delivered.has_storage_media else []),
        "inspect",
        "configure",
        "allocate",
        "ship",
        "deliver",
    ]
    assert {kind for kind, _ in Project.Kind.choices} == set(Project.objects.values_list("kind", flat=True))
    assert set(Shipment.objects.values_list("status", flat=True)) == {"preparing", "shipped", "delivered"}

    balances = dict(OpeningBalance.objects.values_list("metric").annotate(total=Sum("value")))
    assert balances[Metric.DEVICES_RECEIVED] == 1_673_488
    assert balances[Metric.BENEFICIARIES_REACHED] == 6_168_115
    assert balances[Metric.DEVICES_REFURBISHED] > 0 and balances[Metric.EWASTE_RECYCLED_KG] > 0
    assert OpeningBalance.objects.values("hub").distinct().count() == 5

    # Events are folded, and the public totals are history plus what the demo did.
    assert not DeviceEvent.objects.filter(impact_counted=False).exists()
    # Receipts only: the demo's container to Mombasa adds transfer events that keep the state and count nothing.
    received_here = DeviceEvent.objects.filter(action="receive", to_state=DeviceState.RECEIVED).count()
    assert DeviceEvent.objects.filter(action="transfer_ship").exists()
    assert impact_summary()["devices_received"] == 1_673_488 + received_here
    assert impact_summary()["beneficiaries_reached"] > 6_168_115

    for username in ("admin", "staff-ke-mba", "donor-demo", "coordinator-demo"):
        assert authenticate(username=username, password=username) is not None, username
    assert User.objects.get(username="admin").is_superuser
    staff = User.objects.get(username="staff-za-jnb")
    assert staff.is_staff and staff.hub_memberships.get().hub.code == "ZA-JNB"
    assert Donation.objects.filter(donor__users__username="donor-demo").exists()
    assert Project.objects.filter(coordinators__username="coordinator-demo", shipments__status="shipped").exists()

    # Some donations have their data sanitisation certificate, others are still waiting for devices.
    issued = Certificate.objects.filter(kind=Certificate.Kind.SANITISATION).values_list("donation", flat=True)
    assert Donation.objects.filter(pk__in=issued, donor__users__username="donor-demo").exists()
    pending = Donation.objects.exclude(pk__in=issued).filter(donor__users__username="donor-demo")
    assert pending.exists() and all(certificate_pending_devices(donation) for donation in pending)
    assert Certificate.objects.filter(kind=Certificate.Kind.RECYCLING).exists()

    # e-Resource: the South African batch went to a certified recycler; its kilograms covered the demo donor's first
    # commitment (certified) and part of the second. The Kenyan batches wait for the Mombasa recycler's licence.
    commitments = list(EResourceCommitment.objects.filter(donor__legal_name="Demo Donor NV").order_by("created_at"))
    assert [c.status for c in commitments] == ["covered", "open"]
    assert commitments[0].certificate_number and 0 < commitments[1].allocated_kg < commitments[1].target_kg
    allocated = EResourceAllocation.objects.aggregate(total=Sum("kg"))["total"]
    assert allocated == sum(c.allocated_kg for c in commitments)
    assert set(EResourceAllocation.objects.values_list("source__batch__hub__code", flat=True)) == {"ZA-JNB"}
    assert impact_summary()["ewaste_compensated_kg"] == float(round(allocated, 1))
    # A refurbishment partner with its own account and an open work order from Brussels: it sees those devices only.
    from refurbishing.models import WorkOrder
    from refurbishing.selectors import device_list

    partner_user = User.objects.get(username=data.PARTNER_USERNAME)
    assert authenticate(username=data.PARTNER_USERNAME, password=data.PARTNER_USERNAME) is not None
    order = WorkOrder.objects.get(partner__name=data.PARTNER_NAME, status=WorkOrder.Status.OPEN)
    assert order.hub.code == data.PARTNER_HUB and order.steps == ["sanitise", "inspect", "configure"]
    assigned = set(order.devices.values_list("pk", flat=True))
    assert len(assigned) == data.PARTNER_DEVICES
    assert set(device_list(user=partner_user).values_list("pk", flat=True)) == assigned

    # The demo donor's yearly report for last year, issued: on its portal and verifiable by anyone.
    report = YearlyReport.objects.get()
    donor_user = User.objects.get(username="donor-demo")
    assert (report.donor.legal_name, report.year) == ("Demo Donor NV", yearly_report_current_year() - 1)
    assert list(yearly_report_list_for_user(user=donor_user)) == [report]
    assert report.sealed and report.lines.exists() and report.figures
    verified = client.get(reverse("certificate-verify", args=[report.number]))
    assert verified.status_code == 200 and report.number in verified.content.decode()

    before = snapshot()
    again = seed()
    assert "already there" in again
    assert snapshot() == before


def test_seed_demo_refuses_without_debug(settings, db):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is False.*--force"):
        seed()

    assert not Hub.objects.exists()
    assert not Device.objects.exists()
