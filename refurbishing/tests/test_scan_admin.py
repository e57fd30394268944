"""The managers' review list of offline moves in the admin: scoped to the hubs they manage, read-only, and its one
action (Mark reviewed) through the service."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from refurbishing.factories import DeviceFactory, device_through, offline_move_sent
from refurbishing.models import SyncedMove

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:refurbishing_syncedmove_changelist"


def _change_url(move):
    return reverse("admin:refurbishing_syncedmove_change", args=[move.pk])


def _shown(response) -> set[int]:
    return {move.pk for move in response.context["cl"].result_list}


def _moves_at(hub, actor):
    """At ``hub``: one move applied, one refused by a guard, one in conflict (the device changed since)."""
    applied = offline_move_sent(DeviceFactory(donation__hub=hub), "receive", actor=actor)
    refused = offline_move_sent(
        DeviceFactory(donation__hub=hub), "inspect", actor=actor, fields={"passed": "true", "grade": "B"}
    )
    moved = device_through(DeviceFactory(donation__hub=hub), "receive", actor=actor)
    conflict = offline_move_sent(moved, "mark_missing", actor=actor, version=0)
    assert [m.outcome for m in (applied, refused, conflict)] == ["applied", "refused", "conflict"]
    return applied, refused, conflict


@pytest.fixture
def manager_ke_nbo(hubs):
    user = StaffFactory(username="manager-ke-nbo")
    hub_membership_add(hub=hubs["KE-NBO"], user=user, role="manager")
    return user


def _mark_reviewed(client, moves):
    data = {"action": "mark_reviewed", "index": "0", "_selected_action": [m.pk for m in moves]}
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_a_manager_sees_the_refusals_and_conflicts_of_their_hub_to_review(
    client, hubs, manager_ke_mba, staff_ke_mba, staff_ke_nbo
):
    applied, refused, conflict = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    elsewhere = _moves_at(hubs["KE-NBO"], staff_ke_nbo)
    client.force_login(manager_ke_mba)

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert _shown(response) == {refused.pk, conflict.pk}  # the default view: what is left to review
    page = response.content.decode()
    assert refused.message in page and conflict.message in page
    assert reverse("admin:refurbishing_device_change", args=[refused.device_id]) in page
    assert _shown(client.get(reverse(CHANGELIST), {"review": "all"})) == {applied.pk, refused.pk, conflict.pk}
    assert _shown(client.get(reverse(CHANGELIST), {"review": "all", "outcome": "applied"})) == {applied.pk}
    assert client.get(_change_url(refused)).status_code == 200
    for move in elsewhere:
        assert client.get(_change_url(move)).status_code == 404


def test_another_hubs_manager_sees_none_of_them(client, hubs, staff_ke_mba, manager_ke_nbo):
    moves = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    client.force_login(manager_ke_nbo)

    assert _shown(client.get(reverse(CHANGELIST), {"review": "all"})) == set()
    for move in moves:
        assert client.get(_change_url(move)).status_code == 404
    _mark_reviewed(client, moves)
    assert not SyncedMove.objects.filter(reviewed_at__isnull=False).exists()


def test_a_technician_sees_only_their_own_moves_and_cannot_mark_them_reviewed(client, hubs, staff_ke_mba):
    colleague = StaffFactory(username="staff-ke-mba-2", hub=hubs["KE-MBA"])
    _applied, refused, conflict = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    theirs = _moves_at(hubs["KE-MBA"], colleague)
    client.force_login(staff_ke_mba)

    response = client.get(reverse(CHANGELIST))

    assert _shown(response) == {refused.pk, conflict.pk}
    assert "mark_reviewed" not in response.content.decode()  # the action is not offered
    assert client.get(_change_url(theirs[1])).status_code == 404
    _mark_reviewed(client, [refused, conflict])
    assert not SyncedMove.objects.filter(reviewed_at__isnull=False).exists()


def test_marking_reviewed_records_who_and_when_and_the_row_leaves_the_list(client, hubs, manager_ke_mba, staff_ke_mba):
    _applied, refused, conflict = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    client.force_login(manager_ke_mba)

    response = _mark_reviewed(client, [refused])

    assert "1 move marked reviewed." in [str(m) for m in response.context["messages"]]
    refused.refresh_from_db()
    assert refused.reviewed_by == manager_ke_mba and refused.reviewed_at is not None
    assert _shown(client.get(reverse(CHANGELIST))) == {conflict.pk}
    assert _shown(client.get(reverse(CHANGELIST), {"review": "reviewed"})) == {refused.pk}
    # The applied move is nothing to review: selecting it marks nothing.
    _mark_reviewed(client, [_applied])
    _applied.refresh_from_db()
    assert _applied.reviewed_at is None


def test_nothing_in_the_record_can_be_written(client, hubs, superuser, staff_ke_mba):
    _applied, refused, _conflict = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    before = SyncedMove.objects.values().get(pk=refused.pk)
    client.force_login(superuser)

    assert client.get(reverse("admin:refurbishing_syncedmove_add")).status_code == 403
    page = client.get(_change_url(refused)).content.decode()
    assert 'name="_save"' not in page and refused.message in page
    assert client.post(_change_url(refused), {"message": "edited", "outcome": "applied"}).status_code == 403
    delete = reverse("admin:refurbishing_syncedmove_delete", args=[refused.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert "delete_selected" not in listing and "mark_reviewed" in listing
    assert SyncedMove.objects.values().get(pk=refused.pk) == before


def test_the_review_list_runs_a_fixed_number_of_queries(client, hubs, manager_ke_mba, staff_ke_mba):
    client.force_login(manager_ke_mba)
    _moves_at(hubs["KE-MBA"], staff_ke_mba)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(CHANGELIST), {"review": "all"}).status_code == 200
    for _round in range(3):
        _moves_at(hubs["KE-MBA"], staff_ke_mba)
    with CaptureQueriesContext(connection) as more:
        assert client.get(reverse(CHANGELIST), {"review": "all"}).status_code == 200
    assert len(more) == len(few)


def test_the_device_page_links_to_its_offline_moves(client, hubs, manager_ke_mba, staff_ke_mba):
    _applied, refused, _conflict = _moves_at(hubs["KE-MBA"], staff_ke_mba)
    quiet = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(manager_ke_mba)

    page = client.get(reverse("admin:refurbishing_device_change", args=[refused.device_id])).content.decode()
    link = f"{reverse(CHANGELIST)}?device={refused.device_id}&amp;review=all"
    assert link in page
    assert _shown(client.get(reverse(CHANGELIST), {"device": refused.device_id, "review": "all"})) == {refused.pk}
    assert "?device=" not in client.get(reverse("admin:refurbishing_device_change", args=[quiet.pk])).content.decode()
