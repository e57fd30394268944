"""The hub dashboard: for the hub's managers only, and every figure equal to a recount from the devices and events."""

from collections import Counter
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hubs.factories import StaffFactory
from hubs.models import HubMembership
from refurbishing.dashboard import (
    WORK_IN_PROGRESS,
    hub_sanitisation_backlog,
    hub_stuck_devices,
    hub_weekly_throughput,
    hub_work_in_progress,
)
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import Device, DeviceEvent, HubWeeklyThroughput
from refurbishing.services import week_of


def _manager(hub, username="manager-ke-mba"):
    user = StaffFactory(username=username, hub=hub)
    for other in ("KE-NBO", "KE-MBA"):  # _seed's moves happen at both hubs
        HubMembership.objects.get_or_create(user=user, hub=type(hub).objects.get(code=other))
    HubMembership.objects.filter(user=user, hub=hub).update(role=HubMembership.Role.MANAGER)
    return user


def _seed(hubs, actor):
    mba, nbo = hubs["KE-MBA"], hubs["KE-NBO"]
    paths = [(), ("receive",), ("receive",), ("receive", "sanitise"), ("receive", "sanitise", "inspect")]
    paths += [("receive", "sanitise", "inspect", "configure")]
    for hub in (mba, nbo):
        for path in paths:
            device_through(DeviceFactory(donation__hub=hub), *path, actor=actor)
    no_media = DeviceFactory(donation__hub=mba, has_storage_media=False)
    device_through(no_media, "receive", actor=actor)
    return mba


def test_figures_match_a_recount(hubs):
    actor = StaffFactory(username="both", hub=hubs["KE-MBA"])
    HubMembership.objects.create(user=actor, hub=hubs["KE-NBO"])
    mba = _seed(hubs, actor)
    # Two devices untouched for a month.
    old = list(Device.objects.filter(hub=mba, state="received").order_by("pk")[:1])
    old += list(Device.objects.filter(hub=mba, state="sanitised").order_by("pk")[:1])
    Device.objects.filter(pk__in=[d.pk for d in old]).update(updated_at=timezone.now() - timedelta(days=30))

    devices = list(Device.objects.filter(hub=mba))
    states = Counter(d.state for d in devices)
    assert hub_work_in_progress(hub_id=mba.pk) == {s: states.get(s, 0) for s in WORK_IN_PROGRESS}
    assert sum(hub_work_in_progress(hub_id=mba.pk).values()) == 6
    assert hub_sanitisation_backlog(hub_id=mba.pk) == sum(
        1 for d in devices if d.state == "received" and d.has_storage_media
    )
    stuck = hub_stuck_devices(hub_id=mba.pk, days=14)
    limit = timezone.now() - timedelta(days=14)
    recount = Counter(d.state for d in devices if d.state in WORK_IN_PROGRESS and d.updated_at < limit)
    assert stuck["by_state"] == {s: recount.get(s, 0) for s in WORK_IN_PROGRESS}
    assert {d.pk for d in stuck["oldest"]} == {d.pk for d in old}

    throughput = hub_weekly_throughput(hub_id=mba.pk, weeks=4)
    events = Counter(
        (week_of(e.occurred_at), e.action)
        for e in DeviceEvent.objects.filter(hub=mba).exclude(action="pledge")
        if week_of(e.occurred_at) >= throughput.weeks[0]
    )
    shown = {
        (week, action): count
        for action, counts in throughput.by_action.items()
        for week, count in zip(throughput.weeks, counts, strict=True)
        if count
    }
    assert shown == dict(events)
    assert throughput.by_action["receive"][-1] == 6


def test_the_read_model_counts_each_move_once_at_the_hub_it_lands_in(hubs, staff_ke_mba):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", actor=staff_ke_mba)
    row = HubWeeklyThroughput.objects.get(hub=hubs["KE-MBA"], action="receive")
    assert (row.count, row.week) == (1, week_of(timezone.now()))
    device_through(device, "sanitise", actor=staff_ke_mba)
    assert HubWeeklyThroughput.objects.filter(action="sanitise").get().count == 1
    assert HubWeeklyThroughput.objects.get(action="receive").count == 1


def test_only_the_hubs_managers_see_the_dashboard(client, hubs, staff_ke_mba):
    url = reverse("impact:hub-dashboard", args=["KE-MBA"])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff_ke_mba)  # a technician
    assert client.get(url).status_code == 404
    nbo_manager = StaffFactory(username="manager-ke-nbo", hub=hubs["KE-NBO"])
    HubMembership.objects.filter(user=nbo_manager).update(role=HubMembership.Role.MANAGER)
    client.force_login(nbo_manager)  # another hub's manager
    assert client.get(url).status_code == 404
    client.force_login(_manager(hubs["KE-MBA"]))
    response = client.get(url)
    assert response.status_code == 200
    assert "Work in progress" in response.content.decode()


def test_the_dashboard_runs_the_same_queries_however_many_devices(client, hubs):
    manager = _manager(hubs["KE-MBA"])
    client.force_login(manager)
    url = reverse("impact:hub-dashboard", args=["KE-MBA"])
    _seed(hubs, manager)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _seed(hubs, manager)
    _seed(hubs, manager)
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(few)
    assert not any("refurbishing_deviceevent" in q["sql"] for q in more.captured_queries)


def test_the_dashboard_shows_the_partners_progress_on_the_hubs_open_work_orders(client, hubs, partner_user):
    from hubs.models import Partner
    from refurbishing.factories import SANITISATION
    from refurbishing.services import device_transition
    from refurbishing.work_orders.services import work_order_create

    manager = _manager(hubs["KE-MBA"])
    devices = [device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", actor=None) for _n in range(3)]
    order = work_order_create(
        actor=manager,
        hub=hubs["KE-MBA"],
        partner=Partner.objects.get(users=partner_user),
        steps=["sanitise"],
        due_on=timezone.localdate() + timedelta(days=3),
        devices=devices,
    )
    device_transition(device=devices[0], action="sanitise", actor=partner_user, record=SANITISATION)
    client.force_login(manager)

    page = client.get(reverse("impact:hub-dashboard", args=["KE-MBA"])).content.decode()

    assert f"{order.reference}, Flection Refurbishment Services: 1 of 3 devices done, due " in page
