"""Bulk lifecycle moves: a background job per action, one event per device, refusals listed, repeats harmless."""

import pytest
from django.urls import reverse

from donations.factories import DonationFactory
from refurbishing.bulk import services as bulk
from refurbishing.bulk.services import bulk_job_progress, bulk_job_start
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import BulkJob, Device, DeviceEvent
from refurbishing.services import device_register_many

BULK = "/api/v1/devices/bulk/"


def _pledged(count, *, hub):
    first = Device.objects.count()
    donation = DonationFactory(hub=hub)
    rows = [
        {"category": "laptop", "manufacturer": "Dell", "serial_number": f"BULK{first + i:06d}"} for i in range(count)
    ]
    return device_register_many(donation=donation, hub=hub, actor=None, rows=rows)


def _follow(job):
    """Follow a job's progress until it is over, as its progress page does without a worker."""
    for _ in range(1000):
        if job.finished:
            return job
        bulk_job_progress(job=job)
        job.refresh_from_db()
    raise AssertionError("the job never finished")


def test_bulk_job_moves_each_device_with_its_own_event_across_chunks(hubs, staff_ke_mba, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_JOB_CHUNK", 4)
    monkeypatch.setattr(bulk.bulk_job_advance, "__kwdefaults__", {"chunk": 4})
    devices = _pledged(10, hub=hubs["KE-MBA"])

    job = bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=[d.pk for d in devices])

    # Without a worker the first chunk runs at once; the rest wait for someone to follow the job.
    assert (job.status, job.done, job.total) == (BulkJob.Status.RUNNING, 4, 10)
    assert Device.objects.filter(state=Device.State.RECEIVED).count() == 4
    job = _follow(job)
    assert (job.status, job.done, job.moved, job.skipped, job.refused) == (BulkJob.Status.DONE, 10, 10, 0, [])
    assert Device.objects.filter(state=Device.State.RECEIVED).count() == 10
    events = DeviceEvent.objects.filter(action="receive")
    assert events.count() == 10
    assert set(events.values_list("device_id", flat=True)) == {d.pk for d in devices}
    assert set(events.values_list("actor_id", flat=True)) == {staff_ke_mba.pk}


def test_a_refused_device_is_listed_with_the_reason_and_the_others_proceed(hubs, staff_ke_mba):
    wiped, unwiped = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    device_through(wiped, "receive", "sanitise", actor=staff_ke_mba)
    device_through(unwiped, "receive", actor=staff_ke_mba)

    job = _follow(
        bulk_job_start(
            actor=staff_ke_mba,
            action="inspect",
            device_ids=[wiped.pk, unwiped.pk],
            fields={"passed": True, "grade": "B"},
        )
    )

    assert (job.moved, job.skipped) == (1, 0)
    assert [row["id"] for row in job.refused] == [unwiped.pk]
    assert "has storage media that has not been sanitised" in job.refused[0]["reason"]
    wiped.refresh_from_db()
    unwiped.refresh_from_db()
    assert (wiped.state, wiped.grade) == (Device.State.INSPECTED, "B")
    assert unwiped.state == Device.State.RECEIVED
    assert unwiped.events.count() == 2


def test_running_the_same_bulk_action_twice_changes_nothing_the_second_time(hubs, staff_ke_mba):
    devices = _pledged(5, hub=hubs["KE-MBA"])
    ids = [d.pk for d in devices]
    _follow(bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=ids))
    events_before = DeviceEvent.objects.count()
    versions_before = dict(Device.objects.values_list("pk", "version"))

    again = _follow(bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=ids))

    assert (again.moved, again.skipped, again.refused) == (0, 5, [])
    assert DeviceEvent.objects.count() == events_before
    assert dict(Device.objects.values_list("pk", "version")) == versions_before


def test_a_retried_chunk_moves_nothing_twice(hubs, staff_ke_mba):
    devices = _pledged(3, hub=hubs["KE-MBA"])
    job = _follow(bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=[d.pk for d in devices]))
    events = DeviceEvent.objects.count()
    # A worker lost after the moves but before the progress: the chunk runs again from where the job says.
    BulkJob.objects.filter(pk=job.pk).update(done=0, status=BulkJob.Status.RUNNING)
    _follow(BulkJob.objects.get(pk=job.pk))
    assert DeviceEvent.objects.count() == events


def test_devices_outside_the_users_hubs_are_refused_not_moved(hubs, staff_ke_mba):
    (theirs,) = _pledged(1, hub=hubs["ZA-JNB"])
    job = _follow(bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=[theirs.pk]))
    assert [row["id"] for row in job.refused] == [theirs.pk]
    theirs.refresh_from_db()
    assert theirs.state == Device.State.PLEDGED


# The API


def test_api_bulk_by_ids_drops_other_hubs_devices_and_reports_progress(hubs, staff_ke_mba, token_client):
    mine = _pledged(3, hub=hubs["KE-MBA"])
    (theirs,) = _pledged(1, hub=hubs["ZA-JNB"])
    client = token_client(staff_ke_mba)

    response = client.post(BULK, {"action": "receive", "device_ids": [*(d.pk for d in mine), theirs.pk]}, "json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["total"] == 3
    status = client.get(f"{BULK}{body['id']}/").json()
    assert (status["finished"], status["moved"], status["refused_count"]) == (True, 3, 0)
    theirs.refresh_from_db()
    assert theirs.state == Device.State.PLEDGED


def test_api_bulk_by_filter_with_record_fields(hubs, staff_ke_mba, token_client, sanitisation):
    received = _pledged(4, hub=hubs["KE-MBA"])
    for device in received[:3]:
        device_through(device, "receive", actor=staff_ke_mba)
    client = token_client(staff_ke_mba)

    response = client.post(
        BULK, {"action": "sanitise", "filter": {"hub": "KE-MBA", "state": "received"}, **sanitisation}, "json"
    )

    assert response.status_code == 202, response.content
    assert response.json()["total"] == 3
    assert Device.objects.filter(state=Device.State.SANITISED).count() == 3
    assert Device.objects.get(pk=received[3].pk).state == Device.State.PLEDGED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "fly", "device_ids": [1]}, "action"),
        ({"action": "receive"}, "device_ids"),
        ({"action": "receive", "device_ids": ["x"]}, "device_ids"),
        ({"action": "receive", "filter": {"state": "nowhere"}}, "state"),
        ({"action": "inspect", "device_ids": [1], "passed": "maybe"}, "passed"),
    ],
)
def test_api_bulk_refuses_bad_requests_with_the_error_body(hubs, staff_ke_mba, token_client, body, field):
    _pledged(1, hub=hubs["KE-MBA"])
    body = dict(body)
    if body.get("device_ids") == [1]:
        body["device_ids"] = list(Device.objects.values_list("pk", flat=True))
    response = token_client(staff_ke_mba).post(BULK, body, "json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert field in response.json()["errors"]
    assert not BulkJob.objects.exists()


def test_a_job_is_visible_to_the_person_who_started_it_only(hubs, staff_ke_mba, staff_ke_nbo, token_client, client):
    devices = _pledged(2, hub=hubs["KE-MBA"])
    job = bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=[d.pk for d in devices])
    assert token_client(staff_ke_nbo).get(f"{BULK}{job.pk}/").status_code == 404
    client.force_login(staff_ke_nbo)
    assert client.get(reverse("scan:bulk-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("scan:bulk-job-json", args=[job.pk])).status_code == 404


# The admin and the progress page


def test_admin_bulk_action_on_many_devices_goes_to_the_progress_page(client, hubs, staff_ke_mba, monkeypatch):
    monkeypatch.setattr(bulk.bulk_job_advance, "__kwdefaults__", {"chunk": 5})
    devices = _pledged(12, hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)

    response = client.post(
        reverse("admin:refurbishing_device_changelist"),
        {"action": "lifecycle_receive", "index": "0", "_selected_action": [d.pk for d in devices]},
    )

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("scan:bulk-job", args=[job.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "data-job-progress" in page.content.decode()
    progress = client.get(reverse("scan:bulk-job-json", args=[job.pk])).json()
    assert progress["done"] == 12 and progress["finished"] is True  # page load and this poll each ran a chunk
    assert Device.objects.filter(state=Device.State.RECEIVED).count() == 12


def test_with_a_worker_the_job_is_queued_after_commit(hubs, staff_ke_mba, settings, django_capture_on_commit_callbacks):
    from unittest import mock

    settings.CELERY_TASK_ALWAYS_EAGER = False
    devices = _pledged(2, hub=hubs["KE-MBA"])
    with (
        mock.patch("refurbishing.tasks.bulk_job_run.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = bulk_job_start(actor=staff_ke_mba, action="receive", device_ids=[d.pk for d in devices])
    delay.assert_called_once_with(job.pk)
    assert job.done == 0
    # The worker's run moves a chunk and queues the next only while there is one.
    from refurbishing.tasks import bulk_job_run

    with mock.patch("refurbishing.tasks.bulk_job_run.delay") as delay:
        assert bulk_job_run(job.pk) == 2
    delay.assert_not_called()


def test_the_scan_station_starts_a_bulk_move_from_scanned_codes(client, hubs, staff_ke_mba, staff_ke_nbo):
    devices = _pledged(3, hub=hubs["KE-MBA"])
    other_hub = _pledged(1, hub=hubs["KE-NBO"])[0]
    client.force_login(staff_ke_mba)
    assert client.get(reverse("scan:bulk")).status_code == 200

    # A code of another hub's device is unknown here: nothing starts, and the page says which code.
    codes = "\n".join([d.label_code for d in devices] + [other_hub.serial_number])
    refused = client.post(reverse("scan:bulk"), {"codes": codes, "action": "receive"})
    assert refused.status_code == 400 and other_hub.serial_number in refused.content.decode()
    assert not BulkJob.objects.exists()

    codes = "\n".join([devices[0].serial_number, devices[1].label_code.lower(), f"  {devices[2].label_code}  "])
    started = client.post(reverse("scan:bulk"), {"codes": codes, "action": "receive"})
    job = BulkJob.objects.get()
    assert started.status_code == 302 and started["Location"] == reverse("scan:bulk-job", args=[job.pk])
    _follow(job)
    assert set(Device.objects.filter(pk__in=[d.pk for d in devices]).values_list("state", flat=True)) == {"received"}
    assert Device.objects.get(pk=other_hub.pk).state == "pledged"


def test_the_scan_stations_bulk_page_is_for_hub_staff(client, donor_user):
    assert client.get(reverse("scan:bulk")).status_code == 302  # to the login page
    client.force_login(donor_user)
    assert client.get(reverse("scan:bulk")).status_code == 404
