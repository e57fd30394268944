"""Partners acting for a hub: work orders, and a partner's users moving only their devices through their steps."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from hubs.models import Partner
from refurbishing.errors import LifecycleError
from refurbishing.factories import SANITISATION, DeviceFactory
from refurbishing.history.journey import timeline as journey
from refurbishing.models import BulkJob, Device, WorkOrder
from refurbishing.selectors import device_list
from refurbishing.services import device_transition
from refurbishing.work_orders.selectors import work_order_done_assigned, work_order_list
from refurbishing.work_orders.services import work_order_close, work_order_create


def received(hub, **fields):
    device = DeviceFactory(donation__hub=hub, **fields)
    return device_transition(device=device, action="receive", actor=None)


@pytest.fixture
def flection(partner_user):
    return Partner.objects.get(users=partner_user)


@pytest.fixture
def order(hubs, manager_ke_mba, flection):
    """Flection wipes and tests two devices for Mombasa, due in a week; a third device stays with the hub."""
    hub = hubs["KE-MBA"]
    assigned = [received(hub), received(hub)]
    work_order = work_order_create(
        actor=manager_ke_mba,
        hub=hub,
        partner=flection,
        steps=["sanitise", "inspect"],
        due_on=timezone.localdate() + timedelta(days=7),
        devices=assigned,
    )
    return {"order": work_order, "assigned": assigned, "other": received(hub)}


@pytest.fixture
def wipe_only_order(hubs, manager_ke_mba, flection):
    """A received device without storage (so it could be inspected at once) under an order for wiping only."""
    device = received(hubs["KE-MBA"], has_storage_media=False)
    order = work_order_create(
        actor=manager_ke_mba,
        hub=hubs["KE-MBA"],
        partner=flection,
        steps=["sanitise"],
        due_on=timezone.localdate() + timedelta(days=7),
        devices=[device],
    )
    return {"device": device, "order": order}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def state_and_events(device) -> tuple[str, int]:
    fresh = Device.objects.get(pk=device.pk)
    return fresh.state, fresh.events.count()


# The service and the lifecycle guard


def test_a_partner_user_wipes_an_assigned_device_and_the_event_names_the_partner_and_the_person(
    order, partner_user, flection
):
    device = order["assigned"][0]

    device = device_transition(device=device, action="sanitise", actor=partner_user, record=SANITISATION)

    assert device.state == Device.State.SANITISED
    event = device.events.order_by("-id").first()
    assert event.actor == partner_user
    assert event.data["partner"] == "Flection Refurbishment Services"
    assert (event.data["partner_id"], event.data["work_order_id"]) == (flection.pk, order["order"].pk)
    # The donor's journey says who did the work, and for which hub.
    words = [entry.what for entry in journey(device.events.select_related("hub").order_by("id"))]
    assert words[-1].startswith("Wiped and verified by Flection Refurbishment Services for ")


def test_a_partner_user_is_refused_a_step_outside_the_order_and_nothing_is_written(order, partner_user):
    device = order["assigned"][0]
    device = device_transition(device=device, action="sanitise", actor=partner_user, record=SANITISATION)
    device = device_transition(
        device=device, action="inspect", actor=partner_user, record={"passed": True, "grade": "A"}
    )
    before = state_and_events(device)

    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="configure", actor=partner_user, record={"operating_system": "Ubuntu"})

    assert "lets Flection Refurbishment Services sanitise, inspect" in refused.value.message
    assert "not configure it" in refused.value.message
    assert state_and_events(device) == before
    assert not device.configuration_records.exists()


def test_a_partner_user_cannot_move_a_device_outside_their_orders(order, partner_user):
    other = order["other"]
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=other, action="sanitise", actor=partner_user, record=SANITISATION)
    assert refused.value.code == "forbidden"
    assert "not in an open work order of your organisation" in refused.value.message
    assert state_and_events(other) == (Device.State.RECEIVED, 2)
    assert not other.sanitisation_records.exists()


def test_after_the_due_date_the_partner_is_refused_until_the_hub_extends_the_order(order, partner_user):
    work_order, device = order["order"], order["assigned"][0]
    WorkOrder.objects.filter(pk=work_order.pk).update(due_on=timezone.localdate() - timedelta(days=1))

    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="sanitise", actor=partner_user, record=SANITISATION)
    assert f"{work_order.reference} was due on" in refused.value.message
    assert state_and_events(device) == (Device.State.RECEIVED, 2)

    WorkOrder.objects.filter(pk=work_order.pk).update(due_on=timezone.localdate())
    assert device_transition(device=device, action="sanitise", actor=partner_user, record=SANITISATION).state == (
        Device.State.SANITISED
    )


def test_a_closed_order_takes_the_devices_out_of_the_partners_reach(order, partner_user, manager_ke_mba):
    device = order["assigned"][0]
    assert set(device_list(user=partner_user).values_list("pk", flat=True)) == {d.pk for d in order["assigned"]}

    work_order_close(actor=manager_ke_mba, work_order=order["order"])

    assert not device_list(user=partner_user).exists()
    with pytest.raises(LifecycleError):
        device_transition(device=device, action="sanitise", actor=partner_user, record=SANITISATION)
    assert state_and_events(device) == (Device.State.RECEIVED, 2)
    # The partner still sees its order, closed.
    assert list(work_order_list(user=partner_user)) == [order["order"]]


def test_hub_staff_work_on_assigned_devices_as_before_without_a_partner_on_the_event(order, staff_ke_mba):
    device = device_transition(device=order["assigned"][0], action="sanitise", actor=staff_ke_mba, record=SANITISATION)
    assert "partner" not in device.events.order_by("-id").first().data


def test_progress_counts_devices_done_of_those_assigned(order, partner_user, manager_ke_mba):
    device = device_transition(device=order["assigned"][0], action="sanitise", actor=partner_user, record=SANITISATION)
    device_transition(device=device, action="inspect", actor=partner_user, record={"passed": True, "grade": "B"})

    (listed,) = work_order_list(user=manager_ke_mba)
    assert work_order_done_assigned(listed) == (1, 2)


def test_a_work_order_is_refused_whole_for_a_device_of_another_order_or_hub(order, hubs, manager_ke_mba, flection):
    elsewhere = received(hubs["BE-BRU"])
    with pytest.raises(LifecycleError) as refused:
        work_order_create(
            actor=manager_ke_mba,
            hub=hubs["KE-MBA"],
            partner=flection,
            steps=["configure"],
            due_on=timezone.localdate(),
            devices=[order["assigned"][0], order["other"], elsewhere],
        )
    message = refused.value.message
    assert "Already in another open work order" in message
    assert "Not at KE-MBA" in message
    assert "No step of the order comes next" in message  # received devices are not yet to be configured
    assert WorkOrder.objects.count() == 1


def test_only_a_manager_of_the_hub_opens_a_work_order(hubs, staff_ke_mba, flection):
    with pytest.raises(LifecycleError):
        work_order_create(
            actor=staff_ke_mba,
            hub=hubs["KE-MBA"],
            partner=flection,
            steps=["sanitise"],
            due_on=timezone.localdate(),
            devices=[received(hubs["KE-MBA"])],
        )
    assert not WorkOrder.objects.exists()


# The API


def test_api_a_partner_lists_only_assigned_devices_and_gets_404_for_others(order, partner_user):
    client = api(partner_user)
    listed = client.get("/api/v1/devices/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {row["id"] for row in rows} == {d.pk for d in order["assigned"]}
    assert client.get(f"/api/v1/devices/{order['other'].pk}/").status_code == 404
    response = client.post(
        f"/api/v1/devices/{order['other'].pk}/transitions/", {"action": "sanitise", **SANITISATION}, format="json"
    )
    assert response.status_code == 404
    assert state_and_events(order["other"]) == (Device.State.RECEIVED, 2)


def test_api_a_partner_moves_an_assigned_device_and_is_refused_a_step_outside_the_order(order, partner_user):
    client = api(partner_user)
    device = order["assigned"][0]
    url = f"/api/v1/devices/{device.pk}/transitions/"

    assert client.post(url, {"action": "sanitise", **SANITISATION}, format="json").status_code == 200
    client.post(url, {"action": "inspect", "passed": True, "grade": "A"}, format="json")
    refused = client.post(url, {"action": "configure", "operating_system": "Ubuntu 24.04"}, format="json")

    assert refused.status_code == 403
    assert "not configure it" in refused.json()["detail"]
    assert state_and_events(device) == (Device.State.INSPECTED, 4)


def _allowed(client, device=None) -> dict[int, list[str]]:
    if device is not None:
        return {device.pk: client.get(f"/api/v1/devices/{device.pk}/").json()["allowed_actions"]}
    return {row["id"]: row["allowed_actions"] for row in client.get("/api/v1/devices/").json()["results"]}


def test_api_allowed_actions_are_the_steps_the_partner_guard_lets_through(
    order, hubs, manager_ke_mba, flection, partner_user, staff_ke_mba
):
    """The API lists a partner's user only what the lifecycle guard will accept from them: the device's next steps
    that their order lists, none once the order is past due; hub staff still see every next step."""
    wipe_only = work_order_create(
        actor=manager_ke_mba,
        hub=hubs["KE-MBA"],
        partner=flection,
        steps=["sanitise"],
        due_on=timezone.localdate() + timedelta(days=7),
        devices=[order["other"]],
    )
    both, wiped_only = order["assigned"][0], order["other"]
    client = api(partner_user)
    assert _allowed(client) == {
        both.pk: ["sanitise", "inspect"],
        order["assigned"][1].pk: ["sanitise", "inspect"],
        wiped_only.pk: ["sanitise"],
    }
    assert _allowed(client, wiped_only) == {wiped_only.pk: ["sanitise"]}
    assert _allowed(api(staff_ke_mba), wiped_only) == {wiped_only.pk: ["sanitise", "inspect"]}

    # Each action of the device's state is listed exactly when the guard would let the partner take it.
    from refurbishing.lifecycle import actions_from
    from refurbishing.work_orders.services import work_order_acting_for

    for device in (both, wiped_only):
        for action in actions_from(device.state):
            try:
                work_order_acting_for(device=device, actor=partner_user, action=action)
                accepted = True
            except LifecycleError:
                accepted = False
            assert (action in _allowed(client, device)[device.pk]) is accepted, (device, action)

    WorkOrder.objects.filter(pk=wipe_only.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert _allowed(client)[wiped_only.pk] == []
    assert (
        client.post(
            f"/api/v1/devices/{wiped_only.pk}/transitions/", {"action": "sanitise", **SANITISATION}, format="json"
        ).status_code
        == 403
    )


def test_api_device_list_for_a_partner_costs_the_same_for_two_devices_as_for_twenty(
    hubs, manager_ke_mba, flection, partner_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def order_of(count: int):
        return work_order_create(
            actor=manager_ke_mba,
            hub=hubs["KE-MBA"],
            partner=flection,
            steps=["sanitise"],
            due_on=timezone.localdate() + timedelta(days=7),
            devices=[received(hubs["KE-MBA"]) for _ in range(count)],
        )

    client = api(partner_user)
    order_of(2)
    client.get("/api/v1/devices/")  # the user's hubs and partners are read once and kept on the user
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/devices/").json()["results"]) == 2
    order_of(18)
    with CaptureQueriesContext(connection) as many:
        rows = client.get("/api/v1/devices/").json()["results"]
    assert len(rows) == 20 and {tuple(row["allowed_actions"]) for row in rows} == {("sanitise",)}
    assert len(many) == len(few)


def test_api_work_orders_managers_open_and_close_partners_see_their_own(order, hubs, manager_ke_mba, partner_user):
    flection = Partner.objects.get(users=partner_user)
    device = received(hubs["KE-MBA"])
    body = {
        "hub": "KE-MBA",
        "partner": flection.pk,
        "steps": ["sanitise"],
        "due_on": str(timezone.localdate()),
        "device_ids": [device.pk],
    }
    created = api(manager_ke_mba).post("/api/v1/work-orders/", body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["devices_assigned"], created.json()["devices_done"]) == (1, 0)

    listed = api(partner_user).get("/api/v1/work-orders/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {row["id"] for row in rows} == {order["order"].pk, created.json()["id"]}
    # The partner may read its orders but not close them.
    assert api(partner_user).post(f"/api/v1/work-orders/{order['order'].pk}/close/").status_code == 403
    closed = api(manager_ke_mba).post(f"/api/v1/work-orders/{order['order'].pk}/close/")
    assert closed.json()["status"] == "closed"


def test_api_a_work_order_naming_another_hubs_device_is_refused_with_nothing_written(
    hubs, manager_ke_mba, partner_user
):
    flection = Partner.objects.get(users=partner_user)
    body = {
        "hub": "KE-MBA",
        "partner": flection.pk,
        "steps": ["sanitise"],
        "due_on": str(timezone.localdate()),
        "device_ids": [received(hubs["BE-BRU"]).pk],
    }
    response = api(manager_ke_mba).post("/api/v1/work-orders/", body, format="json")
    assert response.status_code == 400
    assert not WorkOrder.objects.exists()


# Bulk jobs, the scan station and the admin


def test_a_bulk_job_of_a_partner_refuses_devices_outside_its_order_and_steps(order, partner_user):
    ids = [d.pk for d in order["assigned"]] + [order["other"].pk]
    response = api(partner_user).post(
        "/api/v1/devices/bulk/", {"action": "configure", "device_ids": ids, "operating_system": "Ubuntu"}, format="json"
    )
    assert response.status_code == 202
    job = BulkJob.objects.get()
    while not job.finished:
        api(partner_user).get(f"/api/v1/devices/bulk/{job.pk}/")
        job.refresh_from_db()
    # The device outside the order was dropped as unknown; the assigned ones were refused the step.
    assert job.total == 2 and job.moved == 0
    assert all("not configure" in row["reason"] or "Cannot configure" in row["reason"] for row in job.refused)
    for device in order["assigned"]:
        assert state_and_events(device) == (Device.State.RECEIVED, 2)


def test_a_bulk_job_of_a_partner_moves_its_assigned_devices(order, partner_user):
    ids = [d.pk for d in order["assigned"]]
    api(partner_user).post(
        "/api/v1/devices/bulk/", {"action": "sanitise", "device_ids": ids, **SANITISATION}, format="json"
    )
    job = BulkJob.objects.get()
    while not job.finished:
        api(partner_user).get(f"/api/v1/devices/bulk/{job.pk}/")
        job.refresh_from_db()
    assert job.moved == 2
    assert {Device.objects.get(pk=pk).state for pk in ids} == {Device.State.SANITISED}


def test_scan_station_a_partner_sees_its_device_with_only_its_steps_offered(order, partner_user, client):
    client.force_login(partner_user)
    device = order["assigned"][0]

    card = client.get(reverse("scan:device", args=[device.label_code]))
    assert card.status_code == 200
    assert [item["action"] for item in card.context["actions"]] == ["sanitise"]
    assert client.get(reverse("scan:device", args=[order["other"].label_code])).status_code == 404
    refused = client.post(reverse("scan:device-action", args=[order["other"].label_code, "sanitise"]), SANITISATION)
    assert refused.status_code == 404

    moved = client.post(reverse("scan:device-action", args=[device.label_code, "sanitise"]), SANITISATION)
    assert moved.status_code == 200
    assert state_and_events(device) == (Device.State.SANITISED, 3)


def test_scan_station_refuses_a_partner_a_step_outside_the_order(order, partner_user, client, manager_ke_mba):
    client.force_login(partner_user)
    device = order["assigned"][0]
    WorkOrder.objects.filter(pk=order["order"].pk).update(steps=["inspect"])

    response = client.post(reverse("scan:device-action", args=[device.label_code, "sanitise"]), SANITISATION)

    assert response.status_code == 400
    assert "not sanitise it" in response.context["refusal"]
    assert state_and_events(device) == (Device.State.RECEIVED, 2)


def test_admin_a_partner_sees_its_devices_and_orders_only(order, partner_user, client):
    client.force_login(partner_user)
    listed = client.get(reverse("admin:refurbishing_device_changelist"))
    assert listed.status_code == 200
    assert {d.pk for d in listed.context["cl"].result_list} == {d.pk for d in order["assigned"]}
    assert client.get(reverse("admin:refurbishing_device_change", args=[order["other"].pk])).status_code == 404
    assert client.get(reverse("admin:refurbishing_device_change", args=[order["assigned"][0].pk])).status_code == 200
    orders = client.get(reverse("admin:refurbishing_workorder_changelist"))
    assert [o.pk for o in orders.context["cl"].result_list] == [order["order"].pk]
    # Nothing else of the hub's is theirs to see.
    assert client.get(reverse("admin:refurbishing_transfer_changelist")).status_code == 403


def test_admin_a_partners_lifecycle_action_outside_its_steps_is_refused(order, partner_user, client):
    client.force_login(partner_user)
    device = order["assigned"][0]
    url = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "configure"])
    client.post(url, {"apply": "1", "lifecycle-operating_system": "Ubuntu", "operating_system": "Ubuntu"})
    assert state_and_events(device) == (Device.State.RECEIVED, 2)
    assert (
        client.get(reverse("admin:refurbishing_device_lifecycle", args=[order["other"].pk, "sanitise"])).status_code
        == 404
    )


def test_admin_a_partners_step_its_order_does_not_list_is_refused_with_the_reason_and_nothing_written(
    wipe_only_order, partner_user, client
):
    """A step the device's state allows (inspect a received device) but the order does not (it lists wiping only):
    the partner guard's sentence on the page, the device as it was."""
    device = wipe_only_order["device"]
    client.force_login(partner_user)
    url = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "inspect"])
    response = client.post(url, {"apply": "1", "lifecycle-passed": "true", "lifecycle-grade": "A"}, follow=True)
    page = response.content.decode()
    assert "lets Flection Refurbishment Services sanitise" in page and "not inspect it" in page
    assert state_and_events(device) == (Device.State.RECEIVED, 2)
    assert not device.inspection_records.exists()


def test_admin_a_partners_device_page_offers_only_the_steps_its_order_lists(
    wipe_only_order, staff_ke_mba, partner_user, client
):
    """The device page's next-action buttons follow the same rule as the API's allowed_actions: a received device
    could be sanitised or inspected, the order lists wiping only, so the partner's user is offered wiping only;
    the hub's own technician is offered both."""
    device = wipe_only_order["device"]
    change = reverse("admin:refurbishing_device_change", args=[device.pk])
    sanitise = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "sanitise"])
    inspect = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "inspect"])
    client.force_login(partner_user)
    page = client.get(change).content.decode()
    assert sanitise in page and inspect not in page
    client.force_login(staff_ke_mba)
    page = client.get(change).content.decode()
    assert sanitise in page and inspect in page


def test_admin_the_hub_manager_sees_progress_in_the_work_order_list(order, manager_ke_mba, partner_user, client):
    device_transition(device=order["assigned"][0], action="sanitise", actor=partner_user, record=SANITISATION)
    device_transition(
        device=order["assigned"][0], action="inspect", actor=partner_user, record={"passed": False, "notes": "dead"}
    )
    client.force_login(manager_ke_mba)
    page = client.get(reverse("admin:refurbishing_workorder_changelist"))
    assert page.status_code == 200
    assert "1 of 2" in page.content.decode()
    detail = client.get(reverse("admin:refurbishing_workorder_change", args=[order["order"].pk])).content.decode()
    assert "1 of 2 devices done (2 moves by the partner)" in detail


def test_admin_a_manager_opening_an_order_for_a_device_already_assigned_is_refused(
    order, hubs, manager_ke_mba, partner_user, client
):
    client.force_login(manager_ke_mba)
    flection = Partner.objects.get(users=partner_user)
    response = client.post(
        reverse("admin:refurbishing_workorder_add"),
        {
            "hub": hubs["KE-MBA"].pk,
            "partner": flection.pk,
            "steps": ["sanitise"],
            "due_on": str(timezone.localdate()),
            "devices": str(order["assigned"][0].pk),
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "Already in another open work order" in response.content.decode()
    assert WorkOrder.objects.count() == 1
