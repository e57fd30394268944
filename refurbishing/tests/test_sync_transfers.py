"""Transfer check-in from an offline scan station: the transfers it keeps (GET /api/v1/sync/transfers/), and the
check-ins it queued, replayed by POST /api/v1/sync/ through the same service as the check-in page."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from refurbishing.factories import SANITISATION, devices_received
from refurbishing.models import Device, DeviceEvent, SyncedMove, TransferDevice
from refurbishing.scan.sync import TRANSFER_CACHE_COLUMNS, transfer_cache
from refurbishing.services import moves_dated
from refurbishing.transfers.services import transfer_check_in_close, transfer_check_in_scan, transfer_send

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/sync/"


@pytest.fixture
def travelling(hubs, staff_be, manager_be):
    """Three devices received at BE-BRU and sent to KE-MBA in one container, three hours ago."""
    with moves_dated(timezone.now() - timedelta(hours=3)):
        devices = devices_received(3, hub=hubs["BE-BRU"], actor=staff_be)
        transfer = transfer_send(
            from_hub=hubs["BE-BRU"], to_hub=hubs["KE-MBA"], devices=devices, reference="MSCU7654321", actor=manager_be
        )
    return transfer, [Device.objects.get(pk=device.pk) for device in devices]


def _check_in(transfer_id, code, *, actor, occurred_at=None, move_id=None):
    return {
        "id": str(move_id or uuid.uuid4()),
        "code": code,
        "action": "check_in",
        "fields": {"transfer": transfer_id},
        "version": 0,
        "occurred_at": (occurred_at or timezone.now() - timedelta(minutes=5)).isoformat(),
        "actor": actor.pk,
    }


def _sync(user, moves, **extra):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(SYNC, {"moves": moves, **extra}, format="json")


def test_the_station_keeps_the_transfers_arriving_at_its_hubs_with_their_devices(
    travelling, staff_ke_mba, staff_be, staff_ke_nbo, django_assert_num_queries
):
    transfer, devices = travelling
    with django_assert_num_queries(3):  # the user's hubs, the transfers, their devices
        cache = transfer_cache(user=staff_ke_mba)
    assert cache["columns"] == list(TRANSFER_CACHE_COLUMNS)
    (kept,) = cache["transfers"]
    assert (kept["id"], kept["reference"], kept["from_hub"], kept["to_hub"]) == (
        transfer.pk,
        "MSCU7654321",
        "BE-BRU",
        "KE-MBA",
    )
    status = TRANSFER_CACHE_COLUMNS.index("status")
    assert sorted(row[0] for row in kept["devices"]) == sorted(d.label_code for d in devices)
    assert {row[status] for row in kept["devices"]} == {"in_transit"}
    # The hub that sent it, and a third hub, check nothing in.
    assert transfer_cache(user=staff_be)["transfers"] == []
    assert transfer_cache(user=staff_ke_nbo)["transfers"] == []
    transfer_check_in_close(transfer=transfer, actor=staff_ke_mba)
    assert transfer_cache(user=staff_ke_mba)["transfers"] == []


def test_a_quiet_refresh_of_the_transfers_is_a_304(travelling, staff_ke_mba):
    transfer, devices = travelling
    client = Client()
    client.force_login(staff_ke_mba)
    url = reverse("api-sync-transfers")
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert first.status_code == 200 and first["Content-Encoding"] == "gzip"
    etag = first["ETag"]  # weak once compressed: sent back as the browser got it
    quiet = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert quiet.status_code == 304 and quiet.content == b""
    transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[0].serial_number)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    rows = changed.json()["transfers"][0]["devices"]
    assert [row[-1] for row in rows if row[0] == devices[0].label_code] == ["received"]


def test_check_ins_made_offline_go_through_the_check_in_service_with_both_times(travelling, staff_ke_mba, hubs):
    transfer, devices = travelling
    happened = timezone.now() - timedelta(hours=1)
    moves = [
        _check_in(transfer.pk, devices[0].serial_number, actor=staff_ke_mba, occurred_at=happened),
        _check_in(transfer.pk, devices[1].label_code, actor=staff_ke_mba, occurred_at=happened + timedelta(minutes=1)),
    ]
    response = _sync(staff_ke_mba, moves)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[0]["message"] == f"{devices[0]} checked in."
    assert results[0]["device"][0] == devices[0].label_code and results[0]["device"][-1] == "KE-MBA"
    for device in devices[:2]:
        device.refresh_from_db()
        assert device.hub == hubs["KE-MBA"] and device.state == "received"
    event = devices[0].events.get(action="transfer_receive")
    assert event.occurred_at == happened and event.recorded_at > happened  # the station's moment, and the server's
    assert event.data == {"transfer_id": transfer.pk}
    statuses = dict(TransferDevice.objects.filter(transfer=transfer).values_list("device_id", "status"))
    assert [statuses[d.pk] for d in devices] == ["received", "received", "in_transit"]
    synced = SyncedMove.objects.get(uuid=moves[0]["id"])
    assert synced.outcome == "applied" and synced.event == event and synced.hub == hubs["KE-MBA"]

    # The same batch again (a retry after a lost answer): duplicates, nothing written.
    events = DeviceEvent.objects.count()
    assert [r["status"] for r in _sync(staff_ke_mba, moves).json()["results"]] == ["duplicate", "duplicate"]
    assert DeviceEvent.objects.count() == events and SyncedMove.objects.count() == 2


def test_a_device_checked_in_meanwhile_is_answered_as_the_check_in_page_answers(travelling, staff_ke_mba):
    transfer, devices = travelling
    transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[0].serial_number)  # online
    events = DeviceEvent.objects.count()
    (answer,) = _sync(staff_ke_mba, [_check_in(transfer.pk, devices[0].label_code, actor=staff_ke_mba)]).json()[
        "results"
    ]
    assert answer["status"] == "duplicate"
    assert answer["message"] == f"{devices[0]} was already checked in."
    assert DeviceEvent.objects.count() == events


def test_a_device_the_transfer_does_not_carry_and_a_closed_check_in_are_refused(
    travelling, staff_ke_mba, manager_ke_mba, hubs
):
    transfer, devices = travelling
    (stranger,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    results = _sync(
        staff_ke_mba,
        [
            _check_in(transfer.pk, stranger.serial_number, actor=staff_ke_mba),
            _check_in(transfer.pk, "NOSUCHCODE", actor=staff_ke_mba),
        ],
        language="fr",
    ).json()["results"]
    assert [r["status"] for r in results] == ["refused", "refused"]
    assert results[0]["message"] == f"{stranger.serial_number} ne fait pas partie du transfert MSCU7654321."
    assert results[0]["device"] is None
    # The hub's managers see what arrived unexpected.
    assert SyncedMove.objects.filter(outcome="refused", hub=hubs["KE-MBA"]).count() == 2

    transfer_check_in_close(transfer=transfer, actor=staff_ke_mba)
    (late,) = _sync(staff_ke_mba, [_check_in(transfer.pk, devices[0].serial_number, actor=staff_ke_mba)]).json()[
        "results"
    ]
    assert late["status"] == "refused"
    assert late["message"] == "The check-in of MSCU7654321 is closed."
    assert late["device"] is None  # it never arrived: missing at the hub it left


def test_a_transfer_of_another_hub_is_refused_as_if_it_did_not_exist(travelling, staff_be, staff_ke_nbo):
    transfer, devices = travelling
    for user in (staff_be, staff_ke_nbo):  # the hub that sent it, and a third hub
        moves = [
            _check_in(transfer.pk, devices[0].serial_number, actor=user),
            _check_in(transfer.pk + 1000, devices[0].serial_number, actor=user),
        ]
        results = _sync(user, moves).json()["results"]
        assert [r["status"] for r in results] == ["refused", "refused"]
        assert results[0]["message"] == results[1]["message"] == "No transfer with this id arrives at your hubs."
        assert results[0]["device"] is None and results[1]["device"] is None
    assert not DeviceEvent.objects.filter(action="transfer_receive").exists()
    assert not SyncedMove.objects.filter(hub__isnull=False).exists()  # nothing ties the refusal to a hub


def test_a_device_checked_in_can_be_moved_further_in_the_same_batch(travelling, staff_ke_mba):
    transfer, devices = travelling
    device = devices[0]
    moves = [
        _check_in(transfer.pk, device.serial_number, actor=staff_ke_mba),
        {
            "id": str(uuid.uuid4()),
            "code": device.label_code,
            "action": "sanitise",
            "fields": {**SANITISATION, "verified": "on"},
            "version": device.version + 1,  # the check-in's
            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
            "actor": staff_ke_mba.pk,
        },
    ]
    results = _sync(staff_ke_mba, moves).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"], results
    device.refresh_from_db()
    assert device.state == "sanitised" and device.version == moves[1]["version"] + 1


@pytest.mark.parametrize("fields", [{}, {"transfer": "3"}, {"transfer": 0}, {"transfer": True}])
def test_a_check_in_without_its_transfer_is_malformed(travelling, staff_ke_mba, fields):
    transfer, devices = travelling
    move = {**_check_in(transfer.pk, devices[0].serial_number, actor=staff_ke_mba), "fields": fields}
    response = _sync(staff_ke_mba, [move])
    assert response.status_code == 400
    assert "fields.transfer" in response.json()["errors"]["moves[0]"][0]
    assert not SyncedMove.objects.exists()


def test_the_transfers_are_for_hub_staff(donor_user):
    client = APIClient()
    assert client.get(reverse("api-sync-transfers")).status_code == 401
    client.force_authenticate(donor_user)
    assert client.get(reverse("api-sync-transfers")).status_code == 403
