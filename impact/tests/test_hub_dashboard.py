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


def _refused_offline(hub, actor, count=1):
    """``count`` moves sent from an offline station and refused by a guard (inspecting a pledged device)."""
    from refurbishing.factories import offline_move_sent

    return [
        offline_move_sent(
            DeviceFactory(donation__hub=hub), "inspect", actor=actor, fields={"passed": "true", "grade": "B"}
        )
        for _n in range(count)
    ]


def test_the_offline_moves_to_review_are_shown_only_when_there_are_some(client, hubs, staff_ke_mba, staff_ke_nbo):
    from refurbishing.scan.sync import synced_moves_mark_reviewed

    manager = _manager(hubs["KE-MBA"])
    client.force_login(manager)
    url = reverse("impact:hub-dashboard", args=["KE-MBA"])
    assert "data-offline-review" not in client.get(url).content.decode()  # a fresh hub: no section at all

    (refused,) = _refused_offline(hubs["KE-MBA"], staff_ke_mba)
    _refused_offline(hubs["KE-NBO"], staff_ke_nbo, count=2)  # another hub's: not counted here
    page = client.get(url).content.decode()

    assert "Offline moves to review" in page
    assert "1 move sent from an offline scan station was refused or met a conflict" in page
    assert refused.message in page and str(refused.device) in page and "staff-ke-mba" in page
    review = reverse("admin:refurbishing_syncedmove_changelist") + f"?hub__id__exact={hubs['KE-MBA'].pk}"
    assert review in page
    synced_moves_mark_reviewed(user=manager, ids=[refused.pk])
    assert "data-offline-review" not in client.get(url).content.decode()


def test_the_offline_moves_to_review_cost_the_same_queries_however_many(
    client, hubs, staff_ke_mba, django_assert_max_num_queries
):
    from impact.hub_dashboard import REVIEW_LISTED

    client.force_login(_manager(hubs["KE-MBA"]))
    url = reverse("impact:hub-dashboard", args=["KE-MBA"])
    _refused_offline(hubs["KE-MBA"], staff_ke_mba)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    _refused_offline(hubs["KE-MBA"], staff_ke_mba, count=REVIEW_LISTED + 2)
    with django_assert_max_num_queries(len(one)):
        page = client.get(url).content.decode()
    assert page.count("<strong>Refused</strong>") == REVIEW_LISTED
    assert f"{REVIEW_LISTED + 3} moves sent from an offline scan station" in page
