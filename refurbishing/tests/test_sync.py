"""The offline scan station's sync: the queue of moves (POST /api/v1/sync/) and the device cache it keeps."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from donations.factories import DonationFactory
from hubs.factories import StaffFactory
from hubs.models import HubMembership
from refurbishing.factories import SANITISATION, DeviceFactory, device_through
from refurbishing.models import Device, DeviceEvent, SyncedMove
from refurbishing.scan.sync import CACHE_SETTLE, SYNC_MAX_MOVES, device_cache_page, synced_move_list_to_review
from refurbishing.services import moves_dated

pytestmark = pytest.mark.django_db
User = get_user_model()
SYNC = "/api/v1/sync/"


def _move(device, action, *, actor, fields=None, version=None, occurred_at=None, move_id=None):
    return {
        "id": str(move_id or uuid.uuid4()),
        "code": device.label_code,
        "action": action,
        "fields": fields or {},
        "version": device.version if version is None else version,
        "occurred_at": (occurred_at or timezone.now() - timedelta(minutes=5)).isoformat(),
        "actor": actor.pk,
    }


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _sync(user, moves, **extra):
    return _client(user).post(SYNC, {"moves": moves, **extra}, format="json")


def test_moves_apply_in_order_through_the_lifecycle_with_both_times(hubs, staff_ke_mba):
    with moves_dated(timezone.now() - timedelta(hours=3)):  # pledged before the station went offline
        device = DeviceFactory(donation__hub=hubs["KE-MBA"], has_storage_media=True)
    happened = timezone.now() - timedelta(hours=2)
    moves = [
        _move(device, "receive", actor=staff_ke_mba, version=0, occurred_at=happened),
        _move(
            device,
            "sanitise",
            actor=staff_ke_mba,
            version=1,
            fields={**SANITISATION, "verified": "on"},
            occurred_at=happened + timedelta(minutes=10),
        ),
        _move(
            device,
            "inspect",
            actor=staff_ke_mba,
            version=2,
            fields={"passed": "true", "grade": "B"},
            occurred_at=happened + timedelta(minutes=20),
        ),
    ]
    response = _sync(staff_ke_mba, moves)
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 3
    device.refresh_from_db()
    assert device.state == "inspected" and device.grade == "B" and device.version == 3
    events = list(device.events.exclude(action="pledge").order_by("id"))
    assert [e.action for e in events] == ["receive", "sanitise", "inspect"]
    assert events[0].occurred_at == happened  # the station's moment
    assert all(e.recorded_at > e.occurred_at for e in events)  # and the server's, beside it
    assert SyncedMove.objects.filter(outcome="applied", event__isnull=False).count() == 3
    assert response.json()["results"][-1]["device"][5] == "inspected"


def test_replaying_a_batch_changes_nothing(hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    moves = [_move(device, "receive", actor=staff_ke_mba)]
    assert _sync(staff_ke_mba, moves).json()["results"][0]["status"] == "applied"
    events = DeviceEvent.objects.count()
    again = _sync(staff_ke_mba, moves).json()["results"]
    assert again[0]["status"] == "duplicate"
    assert DeviceEvent.objects.count() == events and SyncedMove.objects.count() == 1


def test_a_partial_refusal_and_a_conflict_are_answered_and_listed_for_review(hubs, staff_ke_mba, manager_ke_mba):
    ok, refused, stale = DeviceFactory.create_batch(3, donation__hub=hubs["KE-MBA"], has_storage_media=True)
    device_through(refused, "receive", actor=staff_ke_mba)
    device_through(stale, "receive", actor=staff_ke_mba)
    moves = [
        _move(ok, "receive", actor=staff_ke_mba),
        # A wipe not verified: the guard refuses it, in French.
        _move(refused, "sanitise", actor=staff_ke_mba, fields={**SANITISATION, "verified": ""}),
        # The station cached it before someone else received it.
        _move(stale, "mark_missing", actor=staff_ke_mba, version=0),
    ]
    results = _sync(staff_ke_mba, moves, language="fr").json()["results"]
    assert [r["status"] for r in results] == ["applied", "refused", "conflict"]
    assert "effacement" in results[1]["message"] or "vérifi" in results[1]["message"]
    refused.refresh_from_db()
    assert refused.state == "received"
    review = list(synced_move_list_to_review(user=manager_ke_mba))
    assert {m.outcome for m in review} == {"refused", "conflict"}
    assert synced_move_list_to_review(user=staff_ke_mba).count() == 0  # a technician manages nothing


def test_a_device_at_another_hub_is_refused_as_if_it_did_not_exist(hubs, staff_ke_mba):
    elsewhere = DeviceFactory(donation__hub=hubs["BE-BRU"])
    move = _move(elsewhere, "receive", actor=staff_ke_mba)
    unknown = {**_move(elsewhere, "receive", actor=staff_ke_mba), "code": "ZZZZZZZZ"}
    results = _sync(staff_ke_mba, [move, unknown]).json()["results"]
    assert [r["status"] for r in results] == ["refused", "refused"]
    assert results[0]["message"] == results[1]["message"] == "No device with this label at your hubs."
    assert results[0]["device"] is None
    elsewhere.refresh_from_db()
    assert elsewhere.state == "pledged"


def test_a_move_is_applied_only_if_its_maker_still_works_at_the_hub(hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    move = _move(device, "receive", actor=staff_ke_mba)
    HubMembership.objects.filter(user=staff_ke_mba).delete()
    HubMembership.objects.create(user=staff_ke_mba, hub=hubs["BE-BRU"], role="technician")
    results = _sync(staff_ke_mba, [move]).json()["results"]
    assert results[0]["status"] == "refused"
    device.refresh_from_db()
    assert device.state == "pledged"


def test_a_batch_costs_a_fixed_number_of_queries_per_move(hubs, staff_ke_mba):
    """What the batch needs is read once (the devices, their hubs and the hubs' steps, the person's hubs); each
    move then costs the same few queries, and none of them reads a hub."""
    donation = DonationFactory(hub=hubs["KE-MBA"])
    devices = [
        device_through(DeviceFactory(donation=donation, has_storage_media=True), "receive", actor=None)
        for _ in range(31)
    ]
    fields = {**SANITISATION, "verified": "on"}
    counted = []
    # The first move of the week at the hub writes its row of the dashboard's counts: not a move of the two measured.
    for batch in (devices[:1], devices[1:11], devices[11:31]):
        moves = [_move(device, "sanitise", actor=staff_ke_mba, fields=fields) for device in batch]
        client = _client(User.objects.get(pk=staff_ke_mba.pk))  # as a new request: nothing cached on the account
        with CaptureQueriesContext(connection) as queries:
            response = client.post(SYNC, {"moves": moves}, format="json")
        assert {r["status"] for r in response.json()["results"]} == {"applied"}
        assert {r["device"][7] for r in response.json()["results"]} == {"KE-MBA"}  # each answer names its hub
        hub_reads = [q["sql"] for q in queries.captured_queries if 'FROM "hubs_hub"' in q["sql"]]
        counted.append((len(queries.captured_queries), len(hub_reads)))
    _first, (ten, ten_hub_reads), (twenty, twenty_hub_reads) = counted
    per_move = (twenty - ten) / 10
    # 14 with the savepoints (25 before the hub, its steps and the scope were read once per batch, the move and
    # its row shared one transaction with no savepoint of their own, and a verified wipe stopped asking the database
    # whether it is verified)
    assert per_move == int(per_move) and per_move <= 14, counted
    assert twenty_hub_reads == ten_hub_reads, counted


def test_a_batch_with_another_accounts_moves_is_refused_whole(hubs, staff_ke_mba):
    other = StaffFactory(username="other-ke-mba", hub=hubs["KE-MBA"])
    mine, theirs = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    response = _sync(staff_ke_mba, [_move(mine, "receive", actor=staff_ke_mba), _move(theirs, "receive", actor=other)])
    assert response.status_code == 403
    assert not SyncedMove.objects.exists()
    mine.refresh_from_db()
    assert mine.state == "pledged"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"moves": "no"},
        {"moves": []},
        {"moves": [{"id": "not-a-uuid"}]},
        {"moves": ["x"]},
    ],
)
def test_a_malformed_batch_is_a_400_and_writes_nothing(hubs, staff_ke_mba, body):
    response = _client(staff_ke_mba).post(SYNC, body, format="json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not SyncedMove.objects.exists()


def test_one_bad_move_refuses_the_whole_batch(hubs, staff_ke_mba):
    good, bad = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    moves = [_move(good, "receive", actor=staff_ke_mba), {**_move(bad, "receive", actor=staff_ke_mba), "version": "x"}]
    moves.append({**_move(bad, "receive", actor=staff_ke_mba), "occurred_at": "2026-01-01T10:00:00"})  # no offset
    response = _sync(staff_ke_mba, moves)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"moves[1]", "moves[2]"}
    good.refresh_from_db()
    assert good.state == "pledged" and not SyncedMove.objects.exists()


def test_the_batch_size_is_limited(hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    moves = [_move(device, "receive", actor=staff_ke_mba) for _ in range(SYNC_MAX_MOVES + 1)]
    response = _sync(staff_ke_mba, moves)
    assert response.status_code == 400
    assert str(SYNC_MAX_MOVES) in response.json()["detail"]
    assert _sync(staff_ke_mba, moves[:SYNC_MAX_MOVES]).status_code == 200


def test_the_same_id_twice_in_one_batch_is_malformed(hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    move = _move(device, "receive", actor=staff_ke_mba)
    assert _sync(staff_ke_mba, [move, move]).status_code == 400


def test_the_moment_is_bounded_by_now_and_by_the_previous_event(hubs, staff_ke_mba):
    early, late = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    pledged_at = early.events.get().occurred_at
    moves = [
        _move(early, "receive", actor=staff_ke_mba, occurred_at=pledged_at - timedelta(days=3)),
        _move(late, "receive", actor=staff_ke_mba, occurred_at=timezone.now() + timedelta(days=3)),
    ]
    assert [r["status"] for r in _sync(staff_ke_mba, moves).json()["results"]] == ["applied", "applied"]
    assert early.events.get(action="receive").occurred_at == pledged_at
    assert late.events.get(action="receive").occurred_at <= timezone.now()


def test_signed_out_and_not_staff_get_nothing(hubs, donor_user):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    assert APIClient().post(SYNC, {"moves": []}, format="json").status_code in (401, 403)
    assert _sync(donor_user, [_move(device, "receive", actor=donor_user)]).status_code == 403
    assert _client(donor_user).get(reverse("api-sync-devices")).status_code == 403


def test_the_cache_holds_the_hubs_open_devices_and_refreshes_by_cursor(hubs, staff_ke_mba):
    mine = DeviceFactory.create_batch(3, donation__hub=hubs["KE-MBA"])
    DeviceFactory(donation__hub=hubs["BE-BRU"])  # another hub's: never in this cache
    Device.objects.update(updated_at=timezone.now() - CACHE_SETTLE * 2)
    first = device_cache_page(user=staff_ke_mba)
    assert sorted(row[0] for row in first["devices"]) == sorted(d.label_code for d in mine)
    assert first["gone"] == [] and not first["more"]
    quiet = device_cache_page(user=staff_ke_mba, cursor=first["cursor"])
    assert quiet["devices"] == [] and quiet["gone"] == []

    device_through(mine[0], "receive", actor=staff_ke_mba)
    device_through(mine[1], "mark_missing", actor=staff_ke_mba)
    Device.objects.filter(pk__in=[mine[0].pk, mine[1].pk]).update(updated_at=timezone.now() - CACHE_SETTLE)
    changed = device_cache_page(user=staff_ke_mba, cursor=first["cursor"])
    assert [row[0] for row in changed["devices"]] == [mine[0].label_code]
    assert changed["devices"][0][5] == "received"
    assert changed["gone"] == [mine[1].label_code]


def test_the_cache_endpoint_is_compressed_and_refuses_a_forged_cursor(hubs, staff_ke_mba):
    DeviceFactory.create_batch(30, donation__hub=hubs["KE-MBA"])
    Device.objects.update(updated_at=timezone.now() - CACHE_SETTLE * 2)
    client = Client()
    client.force_login(staff_ke_mba)
    response = client.get(reverse("api-sync-devices"), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert client.get(reverse("api-sync-devices"), {"cursor": "yesterday"}).status_code == 404


def test_signing_out_clears_the_stations_caches_and_storage(staff_ke_mba):
    client = Client()
    client.force_login(staff_ke_mba)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert '"storage"' in response["Clear-Site-Data"] and '"cache"' in response["Clear-Site-Data"]
