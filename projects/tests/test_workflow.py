"""Applications, fitting allocation, shipments that close and deliveries people can trust (services)."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from hubs.models import Hub, HubKind
from impact.models import ImpactCounter, Metric
from impact.services import impact_fold_events, impact_reconcile
from projects.factories import application_approved, configured_device
from projects.models import (
    Allocation,
    DeliveryConfirmation,
    DeliveryCorrection,
    DeviceRequest,
    Project,
    ProjectReview,
    ProjectStory,
    Shipment,
)
from projects.selectors import device_list_fitting, project_story_list_public
from projects.services import (
    ProjectError,
    delivery_confirm,
    delivery_correct,
    project_allocate_device,
    project_apply,
    project_create,
    project_resubmit,
    project_review,
    project_review_notify_send,
    project_story_review,
    project_story_submit,
    request_allocate,
    request_allocate_suggested,
    shipment_add_devices,
    shipment_create,
    shipment_ship,
)
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_update

LAPTOPS = {"category": "laptop", "quantity": 2, "min_ram_gb": 8, "keyboard_layout": "QWERTY US", "language": "en"}


def apply(coordinator, hub, **overrides):
    fields = {
        "applicant": coordinator,
        "organisation": "Mombasa Girls Secondary",
        "name": "Computer lab",
        "kind": "education",
        "country": "KE",
        "place": "Mombasa",
        "hub": hub,
        "expected_beneficiaries": 120,
        "requests": [LAPTOPS, {"category": "desktop", "quantity": 1}],
    } | overrides
    return project_apply(**fields)


def people_counted(hub) -> int:
    impact_fold_events()
    cells = ImpactCounter.objects.filter(metric=Metric.BENEFICIARIES_REACHED, hub=hub)
    return int(sum(c.value for c in cells))


# --- applications ----------------------------------------------------------------------------------------------


def test_an_application_is_submitted_then_approved_and_the_coordinator_told_once(
    hubs, coordinator, manager_ke_mba, django_capture_on_commit_callbacks
):
    project = apply(coordinator, hubs["KE-MBA"])
    assert (project.status, project.place) == (Project.Status.SUBMITTED, "Mombasa")
    assert list(project.coordinators.all()) == [coordinator]
    assert project.requests.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        project_review(project=project, reviewer=manager_ke_mba, decision="approved")
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED
    assert set(project.requests.values_list("status", flat=True)) == {DeviceRequest.Status.APPROVED}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [coordinator.email]
    assert "approved" in mail.outbox[0].subject
    # The task again (a retry, a duplicate message): nothing more is sent.
    review = ProjectReview.objects.get()
    assert project_review_notify_send(review_id=review.pk) is False
    assert len(mail.outbox) == 1


def test_changes_requested_with_a_reason_then_resubmitted_then_declined(hubs, coordinator, manager_ke_mba):
    project = apply(coordinator, hubs["KE-MBA"])
    with pytest.raises(ProjectError, match="Say why"):
        project_review(project=project, reviewer=manager_ke_mba, decision="changes_requested")
    project_review(project=project, reviewer=manager_ke_mba, decision="changes_requested", reason="How many pupils?")
    project.refresh_from_db()
    assert (project.status, project.review_reason) == ("changes_requested", "How many pupils?")

    project_resubmit(project=project, actor=coordinator, expected_beneficiaries=300, place="Likoni", requests=[LAPTOPS])
    project.refresh_from_db()
    assert (project.status, project.expected_beneficiaries, project.requests.count()) == ("submitted", 300, 1)

    project_review(project=project, reviewer=manager_ke_mba, decision="declined", reason="Outside our region.")
    project.refresh_from_db()
    assert (project.status, project.review_reason) == ("declined", "Outside our region.")
    assert set(project.requests.values_list("status", flat=True)) == {DeviceRequest.Status.REJECTED}


def test_only_a_manager_of_the_serving_hub_reviews_and_only_once(hubs, coordinator, manager_ke_mba, staff_ke_mba):
    project = apply(coordinator, hubs["KE-MBA"])
    for outsider in (staff_ke_mba, coordinator):  # a technician of the hub, the applicant
        with pytest.raises(ProjectError) as refused:
            project_review(project=project, reviewer=outsider, decision="approved")
        assert refused.value.code == "forbidden"
    project_review(project=project, reviewer=manager_ke_mba, decision="approved")
    with pytest.raises(ProjectError) as again:
        project_review(project=project, reviewer=manager_ke_mba, decision="declined", reason="No")
    assert again.value.code == "conflict"


def test_an_application_needs_a_request_and_people_to_serve(hubs, coordinator):
    with pytest.raises(ProjectError, match="at least one kind of device"):
        apply(coordinator, hubs["KE-MBA"], requests=[])
    with pytest.raises(ProjectError, match="1 or more"):
        apply(coordinator, hubs["KE-MBA"], expected_beneficiaries=0)
    assert not Project.objects.exists()


# --- fit and allocation -------------------------------------------------------------------------------------------


def test_fit_rules_category_ram_storage_cpu_grade_state_hub_and_not_yet_allocated(
    hubs, coordinator, manager_ke_mba, staff_ke_mba, staff_ke_nbo
):
    hub = hubs["KE-MBA"]
    request_fields = {
        "category": "laptop",
        "quantity": 5,
        "min_ram_gb": 8,
        "min_storage_gb": 240,
        "min_cpu": "mid",
        "min_grade": "B",
    }
    project = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[request_fields])
    request = project.requests.get()
    make = lambda **kw: configured_device(hub=hub, actor=staff_ke_mba, **kw)  # noqa: E731
    best = make(cpu="Intel Core i7-8650U", ram_gb=16, storage_gb=512, grade="A")
    good = make(cpu="Intel(R) Core(TM) i5-8250U", ram_gb=8, storage_gb=256, grade="B")
    ryzen = make(cpu="AMD Ryzen 5 3500U", ram_gb=8, storage_gb=256, grade="A")
    misfits = [
        make(cpu="Intel Core i5-8250U", ram_gb=4, storage_gb=256),  # too little RAM
        make(cpu="Intel Core i5-8250U", ram_gb=8, storage_gb=128),  # too little storage
        make(cpu="Intel Core i3-7100U", ram_gb=8, storage_gb=256),  # CPU below mid-range
        make(cpu="Intel Core i5-8250U", ram_gb=8, storage_gb=256, grade="C"),  # worn beyond what is accepted
        make(cpu="Intel Core i5-8250U", ram_gb=8, storage_gb=256, category="desktop"),
    ]
    elsewhere = configured_device(
        hub=hubs["KE-NBO"], actor=staff_ke_nbo, cpu="Intel Core i7", ram_gb=16, storage_gb=512
    )
    fitting = list(device_list_fitting(request=request))
    assert fitting == [best, ryzen, good]  # grade first, then RAM and storage
    assert elsewhere not in fitting and not set(misfits) & set(fitting)

    with pytest.raises(ProjectError, match="does not fit the request"):
        request_allocate(request=request, devices=[misfits[0]], actor=staff_ke_mba)
    request_allocate(request=request, devices=[best], actor=staff_ke_mba)
    assert list(device_list_fitting(request=request)) == [ryzen, good]  # allocated devices are no longer offered


def test_the_suggestion_fills_the_request_from_the_best_fits_and_never_beyond(
    hubs, coordinator, manager_ke_mba, staff_ke_mba
):
    hub = hubs["KE-MBA"]
    project = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[LAPTOPS])
    request = project.requests.get()
    c = configured_device(hub=hub, actor=staff_ke_mba, grade="C")
    a = configured_device(hub=hub, actor=staff_ke_mba, grade="A")
    b = configured_device(hub=hub, actor=staff_ke_mba, grade="B")

    allocations = request_allocate_suggested(request=request, actor=staff_ke_mba)
    assert sorted(x.device_id for x in allocations) == sorted([a.pk, b.pk])
    request.refresh_from_db()
    assert request.status == DeviceRequest.Status.FULFILLED
    with pytest.raises(ProjectError, match="filled already"):
        request_allocate_suggested(request=request, actor=staff_ke_mba)
    # By hand, beyond the request: refused for a technician, allowed when a manager says so.
    with pytest.raises(ProjectError, match="beyond it"):
        request_allocate(request=request, devices=[c], actor=staff_ke_mba)
    with pytest.raises(ProjectError, match="Only a manager"):
        request_allocate(request=request, devices=[c], actor=staff_ke_mba, override=True)
    [extra] = request_allocate(request=request, devices=[c], actor=manager_ke_mba, override=True)
    assert extra.over_request is True
    assert Device.objects.get(pk=c.pk).state == Device.State.ALLOCATED


def test_a_device_is_allocated_to_one_request_only(hubs, coordinator, manager_ke_mba, staff_ke_mba):
    hub = hubs["KE-MBA"]
    first = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[LAPTOPS])
    second = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[LAPTOPS])
    device = configured_device(hub=hub, actor=staff_ke_mba)
    request_allocate(request=first.requests.get(), devices=[device], actor=staff_ke_mba)
    with pytest.raises(ProjectError) as refused:
        request_allocate(request=second.requests.get(), devices=[device], actor=staff_ke_mba)
    assert refused.value.code == "conflict"
    assert Allocation.objects.get(device=device).project == first


def test_an_application_not_yet_approved_takes_no_device(hubs, coordinator, staff_ke_mba):
    project = apply(coordinator, hubs["KE-MBA"])
    device = configured_device(hub=hubs["KE-MBA"], actor=staff_ke_mba)
    with pytest.raises(ProjectError, match="only to approved requests"):
        request_allocate(request=project.requests.first(), devices=[device], actor=staff_ke_mba)


# --- hubs whose kind sends no devices to projects ----------------------------------------------------------------


def make_itad(hub) -> None:
    """The hub becomes an ITAD social enterprise: it wipes and refurbishes, and sends no devices to projects."""
    Hub.objects.filter(pk=hub.pk).update(kind=HubKind.objects.get(code=HubKind.ITAD_SOCIAL_ENTERPRISE))
    hub.refresh_from_db()


def test_an_application_or_a_project_at_a_hub_that_sends_no_devices_to_projects_is_refused(hubs, coordinator):
    johannesburg = hubs["ZA-JNB"]
    make_itad(johannesburg)
    sentence = "Hub ZA-JNB does not send devices to projects; choose another hub."

    with pytest.raises(ProjectError) as refused:
        apply(coordinator, johannesburg, country="ZA", place="Soweto")
    assert (refused.value.message, refused.value.field_errors) == (sentence, {"hub": [sentence]})
    with pytest.raises(ProjectError, match=sentence):
        project_create(organisation="Library", name="Internet", kind="social", country="ZA", hub=johannesburg)

    assert not Project.objects.exists() and not DeviceRequest.objects.exists()


def test_no_device_is_allocated_at_a_hub_whose_kind_no_longer_sends_to_projects(
    hubs, coordinator, manager_ke_mba, staff_ke_mba
):
    mombasa = hubs["KE-MBA"]
    project = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=mombasa, requests=[LAPTOPS])
    device = configured_device(hub=mombasa, actor=staff_ke_mba)
    make_itad(mombasa)
    project = Project.objects.get(pk=project.pk)
    sentence = "Hub KE-MBA does not send devices to projects, so no device can be allocated to Computer lab there."

    with pytest.raises(ProjectError, match=sentence):
        request_allocate(request=project.requests.get(), devices=[device], actor=staff_ke_mba)
    with pytest.raises(LifecycleError, match=sentence):
        project_allocate_device(device=device, project=project, actor=staff_ke_mba)

    assert Device.objects.get(pk=device.pk).state == Device.State.CONFIGURED
    assert not Allocation.objects.exists()


# --- shipments ------------------------------------------------------------------------------------------------------


@pytest.fixture
def allocated(hubs, coordinator, manager_ke_mba, staff_ke_mba):
    """A project at Mombasa with three laptops allocated to it (no shipment yet)."""
    hub = hubs["KE-MBA"]
    project = application_approved(
        coordinator=coordinator,
        manager=manager_ke_mba,
        hub=hub,
        requests=[LAPTOPS | {"quantity": 4}],
        expected=100,
    )
    devices = [configured_device(hub=hub, actor=staff_ke_mba) for _ in range(3)]
    request_allocate(request=project.requests.get(), devices=devices, actor=staff_ke_mba)
    return project, devices


def test_a_shipment_ships_all_its_devices_at_once_and_takes_none_after(allocated, hubs, staff_ke_mba):
    project, devices = allocated
    shipment = shipment_create(project=project, actor=staff_ke_mba, device_ids=[d.pk for d in devices[:2]])
    shipment_add_devices(shipment=shipment, actor=staff_ke_mba, device_ids=[devices[2].pk])
    shipment = shipment_ship(shipment=shipment, actor=staff_ke_mba)
    assert shipment.status == Shipment.Status.SHIPPED
    assert set(Device.objects.filter(pk__in=[d.pk for d in devices]).values_list("state", flat=True)) == {"shipped"}

    late = configured_device(hub=hubs["KE-MBA"], actor=staff_ke_mba)
    request_allocate(request=project.requests.get(), devices=[late], actor=staff_ke_mba)
    with pytest.raises(ProjectError) as refused:
        shipment_add_devices(shipment=shipment, actor=staff_ke_mba, device_ids=[late.pk])
    assert refused.value.code == "conflict"
    assert shipment.devices.count() == 3
    with pytest.raises(LifecycleError) as again:
        shipment_ship(shipment=shipment, actor=staff_ke_mba)
    assert again.value.code == "conflict"


def test_shipping_names_the_missing_wipe_before_any_shipment_bookkeeping(allocated, staff_ke_mba, token_client):
    project, devices = allocated
    shipment = shipment_create(project=project, actor=staff_ke_mba)
    # A device with no storage media (so never wiped) is found to hold an SD card after it joined the shipment.
    wiped_free = configured_device(hub=project.hub, actor=staff_ke_mba, has_storage_media=False)
    request_allocate(request=project.requests.get(), devices=[wiped_free], actor=staff_ke_mba)
    shipment_add_devices(shipment=shipment, actor=staff_ke_mba, device_ids=[wiped_free.pk])
    device_update(device=Device.objects.get(pk=wiped_free.pk), actor=staff_ke_mba, fields={"has_storage_media": True})

    with pytest.raises(LifecycleError, match="no verified sanitisation record") as refused:
        shipment_ship(shipment=shipment, actor=staff_ke_mba)
    assert refused.value.code == "invalid"
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PREPARING
    assert not DeviceEvent.objects.filter(action="ship").exists()  # none of the devices moved

    # The device-level action says the same, not "not in a preparing shipment".
    response = token_client(staff_ke_mba).post(
        f"/api/v1/devices/{wiped_free.pk}/transitions/", {"action": "ship"}, format="json"
    )
    assert response.status_code == 400
    assert "no verified sanitisation record" in response.json()["detail"]


# --- delivery -------------------------------------------------------------------------------------------------------


@pytest.fixture
def shipped(allocated, staff_ke_mba):
    project, devices = allocated
    shipment = shipment_ship(shipment=shipment_create(project=project, actor=staff_ke_mba), actor=staff_ke_mba)
    return project, shipment, devices


def confirm(shipment, coordinator, key="k1", people=30, arrived=(), **kw):
    kw.setdefault("delivered_on", timezone.localdate())
    return delivery_confirm(
        shipment=shipment,
        confirmed_by=coordinator,
        idempotency_key=key,
        people_served=people,
        arrived=[d.pk for d in arrived],
        **kw,
    )


def test_partial_delivery_missing_and_damaged_stay_shipped_and_are_flagged(shipped, coordinator, hubs):
    project, shipment, (one, two, three) = shipped
    confirmation, created = confirm(shipment, coordinator, arrived=[one], missing=[two.pk], damaged=[three.pk])
    assert created
    states = dict(Device.objects.filter(pk__in=[one.pk, two.pk, three.pk]).values_list("pk", "state"))
    assert states == {one.pk: "delivered", two.pk: "shipped", three.pk: "shipped"}
    assert dict(confirmation.lines.values_list("device_id", "outcome")) == {
        one.pk: "delivered",
        two.pk: "missing",
        three.pk: "damaged",
    }
    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == (Shipment.Status.SHIPPED, 30)

    # The missing laptop turns up: a second confirmation delivers the rest and closes the shipment.
    confirm(shipment, coordinator, key="k2", people=10, arrived=[two, three])
    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == (Shipment.Status.DELIVERED, 40)
    assert people_counted(hubs["KE-MBA"]) == 40
    assert impact_reconcile(repair=False) == []


def test_a_confirmation_sent_twice_counts_once(shipped, coordinator, hubs):
    project, shipment, devices = shipped
    first, created = confirm(shipment, coordinator, key="form-123", arrived=devices, people=45)
    again, created_again = confirm(shipment, coordinator, key="form-123", arrived=devices, people=45)
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert DeliveryConfirmation.objects.count() == 1
    assert DeviceEvent.objects.filter(action="deliver").count() == 3
    assert people_counted(hubs["KE-MBA"]) == 45


def test_a_confirmation_reaches_at_least_one_person_and_explains_a_reach_beyond_the_declared(shipped, coordinator):
    project, shipment, devices = shipped
    with pytest.raises(ProjectError, match="at least 1 person"):
        confirm(shipment, coordinator, people=0, arrived=devices)
    with pytest.raises(ProjectError, match="more than the 100 it declared") as refused:
        confirm(shipment, coordinator, people=500, arrived=devices)
    assert "explanation" in refused.value.field_errors
    with pytest.raises(ProjectError, match="future"):
        confirm(shipment, coordinator, arrived=devices, delivered_on=timezone.localdate() + datetime.timedelta(days=2))
    assert not DeliveryConfirmation.objects.exists()
    confirmation, _ = confirm(
        shipment, coordinator, people=500, arrived=devices, explanation="The lab opens evenings to the whole village."
    )
    assert confirmation.explanation.startswith("The lab")


def test_a_correction_is_a_new_event_and_the_counters_follow(shipped, coordinator, manager_ke_mba, staff_ke_mba, hubs):
    project, shipment, devices = shipped
    confirmation, _ = confirm(shipment, coordinator, arrived=devices, people=31)
    assert people_counted(hubs["KE-MBA"]) == 31
    deliver_events = list(DeviceEvent.objects.filter(action="deliver").values_list("pk", "data"))

    with pytest.raises(ProjectError, match="Only a manager"):
        delivery_correct(confirmation=confirmation, actor=staff_ke_mba, people_served=12, reason="Typo")
    with pytest.raises(ProjectError, match="Say why"):
        delivery_correct(confirmation=confirmation, actor=manager_ke_mba, people_served=12, reason="")
    delivery_correct(confirmation=confirmation, actor=manager_ke_mba, people_served=12, reason="One class, not three")
    assert people_counted(hubs["KE-MBA"]) == 12
    delivery_correct(confirmation=confirmation, actor=manager_ke_mba, people_served=20, reason="Evening class added")
    assert people_counted(hubs["KE-MBA"]) == 20

    # Nothing was overwritten: the first figures and events are still there, and the corrections are new rows.
    confirmation.refresh_from_db()
    assert confirmation.people_served == 31
    assert list(DeviceEvent.objects.filter(action="deliver").values_list("pk", "data")) == deliver_events
    assert list(DeliveryCorrection.objects.values_list("people_before", "people_after")) == [(31, 12), (12, 20)]
    assert DeviceEvent.objects.filter(action="correct_reach").count() >= 2
    shipment.refresh_from_db()
    assert shipment.beneficiaries_confirmed == 20
    assert impact_reconcile(repair=False) == []
    # The devices did not move again: delivered counts stay at 3.
    delivered = ImpactCounter.objects.filter(metric=Metric.DEVICES_DELIVERED, hub=hubs["KE-MBA"])
    assert sum(c.value for c in delivered) == 3


# --- stories --------------------------------------------------------------------------------------------------------


def test_a_story_is_public_once_a_manager_approves_it(shipped, coordinator, manager_ke_mba):
    project, shipment, devices = shipped
    confirm(shipment, coordinator, arrived=devices, people=60)
    with pytest.raises(ProjectError, match="e-mail addresses or phone numbers"):
        project_story_submit(
            project=project, author=coordinator, text="Call me on +254 712 345 678", devices_count=3, people_count=60
        )
    with pytest.raises(ProjectError, match="reach 60 people"):
        project_story_submit(project=project, author=coordinator, text="Great", devices_count=3, people_count=61)
    story = project_story_submit(
        project=project, author=coordinator, text="Sixty girls code every week.", devices_count=3, people_count=60
    )
    assert not project_story_list_public(project_id=project.pk).exists()
    project_story_review(story=story, reviewer=manager_ke_mba, approve=True)
    assert list(project_story_list_public(project_id=project.pk)) == [story]
    assert ProjectStory.objects.get().status == "approved"


def test_an_approved_story_shows_on_the_public_project_page_without_its_author(
    client, shipped, coordinator, manager_ke_mba
):
    project, shipment, devices = shipped
    Project.objects.filter(pk=project.pk).update(public=True)
    confirm(shipment, coordinator, arrived=devices, people=60)
    story = project_story_submit(
        project=project, author=coordinator, text="Sixty girls code every week.", devices_count=3, people_count=60
    )
    page = client.get(f"/en/public/projects/{project.pk}/")
    assert "Sixty girls code" not in page.content.decode()
    project_story_review(story=story, reviewer=manager_ke_mba, approve=True)
    html = client.get(f"/en/public/projects/{project.pk}/").content.decode()
    assert "Sixty girls code every week." in html
    assert coordinator.username not in html and coordinator.email not in html


def test_shipping_a_device_of_a_shipment_already_shipped_is_a_conflict(shipped, staff_ke_mba, token_client):
    project, shipment, devices = shipped
    response = token_client(staff_ke_mba).post(
        f"/api/v1/devices/{devices[0].pk}/transitions/", {"action": "ship"}, format="json"
    )
    assert response.status_code == 409
    assert "just shipped" in response.json()["detail"]


def test_fit_rules_read_the_drives_and_the_configuration_record(hubs, coordinator, manager_ke_mba, staff_ke_mba):
    """What the technician recorded at the bench is what a request is matched on: an SSD among the drives, and
    the keyboard layout and language of the configuration record, however they were written."""
    from refurbishing.factories import CONFIGURATION, DeviceFactory, device_through
    from refurbishing.hardware.services import drive_create, drive_sanitisation_record_create
    from refurbishing.services import device_transition

    hub = hubs["KE-MBA"]
    request_fields = {
        "category": "laptop",
        "quantity": 5,
        "ssd_required": True,
        "keyboard_layout": "AZERTY (FR)",
        "language": "fr",
    }
    project = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[request_fields])
    request = project.requests.get()

    def configured(*, media_type: str | None, layout: str, language: str):
        device = DeviceFactory(donation__hub=hub)
        device_through(device, "receive", actor=staff_ke_mba)
        if media_type:
            drive = drive_create(
                device=device, actor=staff_ke_mba, media_type=media_type, serial_number=f"D{device.pk}"
            )
            drive_sanitisation_record_create(
                drive=drive,
                recorded_by=staff_ke_mba,
                method="purge",
                technique="Secure Erase",
                tool="nwipe",
                verification="full",
                verified=True,
                completed_at=timezone.now(),
            )
        device_through(device, "sanitise", actor=staff_ke_mba)
        device_transition(device=device, action="inspect", actor=staff_ke_mba, record={"passed": True, "grade": "A"})
        record = {**CONFIGURATION, "keyboard_layout": layout, "language": language}
        return device_transition(device=device, action="configure", actor=staff_ke_mba, record=record)

    fits = configured(media_type="ssd", layout="AZERTY FR", language="Français")
    nvme = configured(media_type="nvme", layout="azerty", language="fr")
    misfits = [
        configured(media_type="hdd", layout="AZERTY FR", language="French"),  # a spinning disk only
        configured(media_type=None, layout="AZERTY FR", language="French"),  # no drive known: no SSD shown
        configured(media_type="ssd", layout="QWERTY US", language="French"),  # another layout
        configured(media_type="ssd", layout="AZERTY FR", language="English"),  # another language
    ]
    fitting = set(device_list_fitting(request=request))
    assert fitting == {fits, nvme}
    assert not fitting & set(misfits)
