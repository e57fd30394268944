"""Hardware reports, drives and per-drive wipes: the API and upload page, matching and late linking, hub scoping,
the per-drive lifecycle guard, and the rows a sanitisation certificate lists."""

import copy
import json
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from refurbishing.errors import LifecycleError
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.hardware.selectors import (
    sanitisation_rows_for_device,
    sanitisation_rows_for_donation,
    snapshot_waiting_for_serial,
)
from refurbishing.hardware.services import drive_create, drive_sanitisation_record_create, snapshot_create
from refurbishing.models import Device, Drive, DriveSanitisation, Snapshot
from refurbishing.services import device_transition
from refurbishing.tests.admin_forms import change_form_data
from refurbishing.tests.workbench_reports import mutations, sample

URL = "/api/v1/snapshots/"
SCRIPT = "snapshot_workbench-script.json"
WB11 = "snapshot-workbench11.json"
WIPE = {
    "method": "purge",
    "technique": "ATA Secure Erase",
    "tool": "nwipe",
    "tool_version": "0.34",
    "verification": "full",
    "verified": True,
}


def post(client, report, **extra):
    body = report if isinstance(report, bytes | str) else json.dumps(report)
    return client.post(URL, data=body, content_type="application/json", **extra)


def _state(device: Device) -> dict:
    device.refresh_from_db()
    return {f.attname: getattr(device, f.attname) for f in Device._meta.concrete_fields}


@pytest.fixture
def dell(hubs):
    """The Dell of the workbench-script sample, pledged for Brussels with only its make and serial typed."""
    return DeviceFactory(
        donation__hub=hubs["BE-BRU"],
        manufacturer="Dell",
        model="",
        serial_number="5CQ6VY1",
        ram_gb=None,
        storage_gb=None,
    )


# The API: reading, matching, filling in


def test_a_report_fills_in_what_the_device_did_not_have(token_client, staff_be, dell):
    response = post(token_client(staff_be), sample(SCRIPT))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in ("uuid", "device", "serial_number", "manufacturer", "model", "cpu")} == {
        "uuid": "41858da1-5a7c-47a5-b5d2-f1a666a99ed5",
        "device": dell.pk,
        "serial_number": "5CQ6VY1",
        "manufacturer": "Dell",
        "model": "Latitude E7240",
        "cpu": "Intel Core i7-4600U CPU @ 2.10GHz",
    }
    assert body["ram_gb"] == 16
    assert body["drives"] == [
        {"model": "LITEONIT LMT-256M6M mSATA 256GB", "serial_number": "TW0XXM305508539G1361", "size_gb": 256,
         "media_type": "ssd"},
        {"model": "Samsung SSD 850 EVO mSATA 500GB", "serial_number": "S33HNX0J203755R", "size_gb": 500,
         "media_type": "ssd"},
    ]  # fmt: skip
    dell.refresh_from_db()
    assert (dell.model, dell.cpu, dell.ram_gb, dell.storage_gb) == (
        "Latitude E7240",
        "Intel Core i7-4600U CPU @ 2.10GHz",
        16,
        756,
    )
    assert list(dell.drives.values_list("serial_number", "source")) == [
        ("TW0XXM305508539G1361", "report"),
        ("S33HNX0J203755R", "report"),
    ]
    snapshot = Snapshot.objects.get()
    assert snapshot.raw == sample(SCRIPT)  # the evidence, unchanged
    assert (snapshot.device, snapshot.hub.code, snapshot.uploaded_by) == (dell, "BE-BRU", staff_be)


def test_what_a_person_typed_is_never_overwritten_and_differences_are_shown(token_client, staff_be, hubs):
    typed = DeviceFactory(
        donation__hub=hubs["BE-BRU"],
        manufacturer="HP",
        model="ProBook 640 G1",
        serial_number="cnu406clgr",  # typed in lower case: still the same machine
        ram_gb=8,
        cpu="",
        storage_gb=None,
    )
    response = post(token_client(staff_be), sample(WB11))
    assert response.status_code == 201
    body = response.json()
    assert body["device"] == typed.pk
    typed.refresh_from_db()
    assert (typed.model, typed.ram_gb) == ("ProBook 640 G1", 8)  # kept as typed
    assert (typed.cpu, typed.storage_gb) == ("Intel Core I5-4200m Cpu @ 2.50ghz", 120)  # filled in
    assert body["differences"] == [
        {"field": "model", "device": "ProBook 640 G1", "report": "Hp Probook 650 G1"},
        {"field": "ram_gb", "device": 8, "report": 4},
    ]
    assert Snapshot.objects.get().differences == body["differences"]


def test_the_same_report_again_changes_nothing_and_answers_200(token_client, staff_be, dell):
    client = token_client(staff_be)
    first = post(client, sample(SCRIPT))
    assert first.status_code == 201
    before = _state(dell)
    drives = list(Drive.objects.values_list("pk", flat=True))
    again = post(client, sample(SCRIPT))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Snapshot.objects.count() == 1
    assert list(Drive.objects.values_list("pk", flat=True)) == drives
    assert _state(dell) == before


def test_two_reports_of_one_machine_add_no_drive_twice(token_client, staff_be, dell):
    client = token_client(staff_be)
    assert post(client, sample(SCRIPT)).status_code == 201
    second = sample(SCRIPT)
    second["uuid"] = str(uuid.uuid4())
    assert post(client, second).status_code == 201
    assert Snapshot.objects.filter(device=dell).count() == 2
    assert dell.drives.count() == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        ("[1, 2, 3]", "JSON object"),
        ({"type": "Snapshot", "data": {}}, "uuid"),
        ({"name": "a spreadsheet", "rows": []}, "Snapshot"),
        ({"type": "Snapshot", "uuid": "7928afeb-e6a4-464a-a842-0c3de0d01677"}, "neither"),
    ],
)
def test_a_body_that_is_not_a_report_is_refused_saying_why(token_client, staff_be, body, reason):
    response = post(token_client(staff_be), body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert set(response.json()) == {"detail", "errors"}
    assert Snapshot.objects.count() == 0


def test_a_report_over_the_size_cap_is_refused_with_413(token_client, staff_be, settings):
    settings.HARDWARE_REPORT_MAX_BYTES = 50_000
    response = post(token_client(staff_be), sample(SCRIPT))  # 137 KB
    assert response.status_code == 413
    assert "at most 50000 bytes" in response.json()["detail"]
    assert Snapshot.objects.count() == 0


def test_a_body_in_another_format_is_refused_with_415(token_client, staff_be):
    response = token_client(staff_be).post(URL, data={"report": "x"}, format="multipart")
    assert response.status_code == 415
    assert Snapshot.objects.count() == 0


def test_no_mutated_report_gives_a_server_error(token_client, staff_be, hubs):
    """A fuzz over the real reports with fields dropped, emptied and retyped: answers are 200, 201 or 400."""
    DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", model="", serial_number="CNU406CLGR")
    client = token_client(staff_be)
    client.raise_request_exception = False
    script = sample(SCRIPT)
    script["data"]["smartctl"] = json.dumps(json.loads(script["data"]["smartctl"])[:1])
    script["data"].pop("inxi")
    statuses = {}
    for report in [*mutations(sample(WB11)), *mutations(script)]:
        if isinstance(report.get("uuid"), str) and report["uuid"] == sample(WB11)["uuid"]:
            report["uuid"] = str(uuid.uuid4())  # each stored afresh, so each is matched and applied
        response = post(client, report)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (200, 201, 400), (response.status_code, response.content[:300])
    assert statuses.get(201, 0) > 50 and statuses.get(400, 0) > 0


# Who may upload, and where it links


def test_donors_and_anonymous_callers_are_refused(token_client, donor_user, dell):
    assert post(APIClient(), sample(SCRIPT)).status_code == 401
    response = post(token_client(donor_user), sample(SCRIPT))
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}
    assert Snapshot.objects.count() == 0


def test_staff_of_another_hub_cannot_attach_a_report_to_a_device_outside_their_hubs(
    token_client, staff_ke_mba, staff_be, dell
):
    response = post(token_client(staff_ke_mba), sample(SCRIPT))
    assert response.status_code == 201
    assert response.json()["device"] is None  # the Dell is at Brussels, not Mombasa
    assert Snapshot.objects.get().hub.code == "KE-MBA"
    assert not dell.drives.exists()
    dell.refresh_from_db()
    assert dell.model == ""
    # The same report from Brussels is not theirs to see: a conflict, not the other hub's result.
    response = post(token_client(staff_be), sample(SCRIPT))
    assert response.status_code == 409
    assert Snapshot.objects.count() == 1


def test_a_hub_that_is_not_the_callers_is_refused(token_client, staff_be):
    response = post(token_client(staff_be), sample(SCRIPT), QUERY_STRING="hub=KE-MBA")
    assert response.status_code == 403
    response = post(token_client(staff_be), sample(SCRIPT), QUERY_STRING="hub=%00x")
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]
    response = post(token_client(staff_be), sample(SCRIPT), QUERY_STRING="hub=K%C3%89-MBA")
    assert response.status_code == 400 and "hub code" in response.json()["detail"]
    assert Snapshot.objects.count() == 0


def test_a_report_waits_for_its_device_and_is_linked_when_it_is_received(token_client, staff_be, hubs):
    response = post(token_client(staff_be), sample(WB11))
    assert response.status_code == 201 and response.json()["device"] is None
    # The machine turns up later (an unexpected device at check-in, say), pledged and then received.
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", model="", serial_number="CNU406CLGR")
    snapshot = Snapshot.objects.get()
    assert snapshot.device is None  # registering is not receiving
    device_transition(device=device, action="receive", actor=staff_be)
    snapshot.refresh_from_db()
    assert snapshot.device == device and snapshot.linked_at is not None
    device.refresh_from_db()
    assert device.model == "Hp Probook 650 G1"
    assert list(device.drives.values_list("serial_number", "media_type", "size_gb")) == [("LDS645R002202", "ssd", 120)]


def test_a_waiting_report_of_another_hub_stays_waiting_on_receive(token_client, staff_ke_mba, staff_be, hubs):
    assert post(token_client(staff_ke_mba), sample(WB11)).status_code == 201
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", serial_number="CNU406CLGR")
    device_transition(device=device, action="receive", actor=staff_be)
    assert Snapshot.objects.get().device is None
    assert not device.drives.exists()


def test_a_refused_receive_links_nothing(token_client, staff_be, staff_ke_mba, hubs):
    assert post(token_client(staff_be), sample(WB11)).status_code == 201
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", serial_number="CNU406CLGR")
    with pytest.raises(LifecycleError):
        device_transition(device=device, action="receive", actor=staff_ke_mba)  # not their hub
    assert Snapshot.objects.get().device is None


def test_rate_limit_answers_429_with_retry_after(token_client, staff_be, settings, fresh_cache):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "hardware_report": "2/m"}
    client = token_client(staff_be)
    with mock.patch("common.ratelimit.time.time", return_value=60 * 1000 + 10):
        for _ in range(2):
            assert post(client, sample(WB11)).status_code in (200, 201)
        response = post(client, sample(WB11))
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert set(response.json()) == {"detail", "errors"}


# The upload page


def _upload(client, content: bytes, name="report.json"):
    return client.post(
        reverse("snapshots:upload"), {"report": SimpleUploadedFile(name, content, content_type="application/json")}
    )


def test_the_upload_page_is_for_hub_staff_only(client, donor_user, staff_be):
    url = reverse("snapshots:upload")
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(donor_user)
    assert client.get(url).status_code == 404
    client.force_login(staff_be)
    response = client.get(url)
    assert response.status_code == 200
    assert "Upload a hardware report" in response.content.decode()


def test_uploading_a_report_on_the_page_links_it_and_shows_what_was_read(client, staff_be, dell):
    client.force_login(staff_be)
    response = _upload(client, json.dumps(sample(SCRIPT)).encode())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Report stored" in html and f"#{dell.pk}" not in html  # the device is named, not numbered
    assert "Linked to" in html and "5CQ6VY1" in html and "TW0XXM305508539G1361" in html
    assert Snapshot.objects.get().device == dell
    again = _upload(client, json.dumps(sample(SCRIPT)).encode())
    assert "already stored: nothing changed" in again.content.decode()
    assert Snapshot.objects.count() == 1


def test_the_page_refuses_a_file_that_is_not_a_report(client, staff_be, settings):
    client.force_login(staff_be)
    response = _upload(client, b"name,serial\nDell,123\n", name="devices.csv")
    assert response.status_code == 400
    assert "not an eReuse Workbench report" in response.content.decode()
    settings.HARDWARE_REPORT_MAX_BYTES = 1000
    response = _upload(client, json.dumps(sample(SCRIPT)).encode())
    assert response.status_code == 400
    assert "may be at most 1000\xa0bytes; this file is" in response.content.decode()
    assert Snapshot.objects.count() == 0


# Drives and per-drive wipes


@pytest.fixture
def dell_with_drives(token_client, staff_be, dell):
    assert post(token_client(staff_be), sample(SCRIPT)).status_code == 201
    device_transition(device=dell, action="receive", actor=staff_be)
    return dell


def _wipe(drive, staff, **overrides):
    fields = {**WIPE, "completed_at": timezone.now() - timedelta(hours=2), **overrides}
    return drive_sanitisation_record_create(drive=drive, recorded_by=staff, **fields)


def test_a_device_with_drives_is_sanitised_only_once_every_drive_has_a_verified_wipe(staff_be, dell_with_drives):
    device = dell_with_drives
    first, second = device.drives.order_by("id")
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="sanitise", actor=staff_be, record=WIPE)
    assert "TW0XXM305508539G1361" in refused.value.message and "S33HNX0J203755R" in refused.value.message
    _wipe(first, staff_be)
    _wipe(second, staff_be, verified=False)  # an attempt that failed verification is evidence, not a wipe
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="sanitise", actor=staff_be, record=WIPE)
    assert "S33HNX0J203755R" in refused.value.message and "TW0XXM305508539G1361" not in refused.value.message
    assert device.state == "received"
    _wipe(second, staff_be)
    device_transition(device=device, action="sanitise", actor=staff_be, record=WIPE)
    assert device.state == "sanitised"


def test_a_drive_found_later_keeps_the_device_at_the_hub_until_wiped(staff_be, dell_with_drives):
    device = dell_with_drives
    for drive in device.drives.all():
        _wipe(drive, staff_be)
    device_through(device, "sanitise", actor=staff_be)
    device_transition(device=device, action="inspect", actor=staff_be, record={"passed": False})
    assert device.state == "to_recycle"
    extra = drive_create(device=device, actor=staff_be, media_type="hdd", model="ST500LM021", serial_number="W62X")
    assert extra.source == "hand"
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="recycle", actor=staff_be, data={"weight_kg": "2.1"})
    assert "W62X" in refused.value.message and "cannot recycle until every drive" in refused.value.message
    _wipe(extra, staff_be, method="destroy", technique="shredding", tool="shredder", tool_version="")
    device_transition(device=device, action="recycle", actor=staff_be, data={"weight_kg": "2.1"})
    assert device.state == "recycled"


def test_a_device_without_drives_keeps_the_device_level_rule(staff_be, hubs):
    device = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), "receive", actor=staff_be)
    device_through(device, "sanitise", "inspect", "configure", actor=staff_be)
    assert device.state == "configured"
    assert not device.drives.exists()


def test_a_wipe_keeps_the_completion_time_as_entered_and_refuses_the_future(staff_be, dell_with_drives):
    drive = dell_with_drives.drives.first()
    when = timezone.now() - timedelta(days=1, minutes=7)
    record = _wipe(drive, staff_be, completed_at=when)
    record.refresh_from_db()
    assert record.completed_at == when
    assert (record.drive_serial, record.media_type, record.operator) == ("TW0XXM305508539G1361", "ssd", staff_be)
    with pytest.raises(LifecycleError, match="future"):
        _wipe(drive, staff_be, completed_at=timezone.now() + timedelta(hours=3))


def test_staff_of_another_hub_cannot_add_drives_or_record_wipes(staff_ke_mba, dell_with_drives):
    with pytest.raises(LifecycleError) as refused:
        drive_create(device=dell_with_drives, actor=staff_ke_mba, media_type="ssd", serial_number="X1")
    assert refused.value.code == "forbidden"
    with pytest.raises(LifecycleError):
        _wipe(dell_with_drives.drives.first(), staff_ke_mba)
    assert DriveSanitisation.objects.count() == 0


def test_a_drive_serial_is_added_once_per_device(staff_be, dell_with_drives):
    with pytest.raises(LifecycleError, match="already has a drive"):
        drive_create(device=dell_with_drives, actor=staff_be, media_type="ssd", serial_number="s33hnx0j203755r")


# What the certificate lists


def test_certificate_rows_list_each_drive_or_the_device_record(staff_be, dell_with_drives, hubs):
    first, second = dell_with_drives.drives.order_by("id")
    _wipe(first, staff_be)
    rows = sanitisation_rows_for_device(device=dell_with_drives)
    assert [(row.drive_serial, row.verified, row.method) for row in rows] == [
        ("TW0XXM305508539G1361", True, "purge"),
        ("S33HNX0J203755R", False, ""),
    ]
    plain = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), "receive", "sanitise", actor=staff_be)
    (row,) = sanitisation_rows_for_device(device=plain)
    assert (row.per_drive, row.drive_serial, row.tool, row.verified) == (False, "", "nwipe", True)


def test_certificate_rows_for_a_donation_take_a_fixed_number_of_queries(staff_be, dell_with_drives, hubs):
    donation = dell_with_drives.donation
    for drive in dell_with_drives.drives.all():
        _wipe(drive, staff_be)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            rows = sanitisation_rows_for_donation(donation_id=donation.pk)
        assert rows[dell_with_drives.pk]
        return len(queries)

    before = count()
    for _ in range(3):
        device = DeviceFactory(donation=donation, hub=donation.hub)
        drive_create(device=device, actor=staff_be, media_type="hdd", serial_number=f"HD{device.pk}")
    assert count() == before


# Admin


def test_device_admin_shows_drives_and_adds_one_by_hand(client, staff_be, dell_with_drives):
    client.force_login(staff_be)
    url = reverse("admin:refurbishing_device_change", args=[dell_with_drives.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "TW0XXM305508539G1361" in html and "hardware report" in html.lower()

    data = change_form_data(response)
    prefix = next(f.formset.prefix for f in response.context["inline_admin_formsets"] if f.formset.model is Drive)
    drives = list(dell_with_drives.drives.order_by("id"))
    data[f"{prefix}-TOTAL_FORMS"] = str(len(drives) + 1)
    for index, drive in enumerate(drives):
        data |= {
            f"{prefix}-{index}-id": drive.pk,
            f"{prefix}-{index}-device": dell_with_drives.pk,
            f"{prefix}-{index}-media_type": drive.media_type,
            f"{prefix}-{index}-model": drive.model,
            f"{prefix}-{index}-serial_number": drive.serial_number,
            f"{prefix}-{index}-size_gb": drive.size_gb,
        }
    new = len(drives)
    data |= {
        f"{prefix}-{new}-device": dell_with_drives.pk,
        f"{prefix}-{new}-media_type": "hdd",
        f"{prefix}-{new}-model": "ST1000LM035",
        f"{prefix}-{new}-serial_number": "WL1HAND",
        f"{prefix}-{new}-size_gb": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    added = dell_with_drives.drives.get(serial_number="WL1HAND")
    assert (added.source, added.size_gb, added.media_type) == ("hand", 1000, "hdd")


def test_snapshot_admin_is_read_only_and_scoped_to_the_hub(client, staff_be, staff_ke_mba, dell_with_drives):
    snapshot = Snapshot.objects.get()
    client.force_login(staff_ke_mba)
    listing = client.get(reverse("admin:refurbishing_snapshot_changelist"))
    assert listing.status_code == 200 and "5CQ6VY1" not in listing.content.decode()
    assert client.get(reverse("admin:refurbishing_snapshot_change", args=[snapshot.pk])).status_code == 404
    client.force_login(staff_be)
    page = client.get(reverse("admin:refurbishing_snapshot_change", args=[snapshot.pk]))
    assert page.status_code == 200 and "Latitude E7240" in page.content.decode()
    assert client.post(reverse("admin:refurbishing_snapshot_change", args=[snapshot.pk]), {}).status_code == 403


def test_hub_staff_record_a_drive_wipe_in_the_admin(client, staff_be, dell_with_drives):
    drive = dell_with_drives.drives.first()
    client.force_login(staff_be)
    when = (timezone.now() - timedelta(hours=5)).replace(microsecond=0, second=0)
    response = client.post(
        reverse("admin:refurbishing_drivesanitisation_add"),
        {
            "drive": drive.pk,
            **{key: value for key, value in WIPE.items() if key != "verified"},
            "verified": "on",
            "operator": staff_be.pk,
            "completed_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    record = DriveSanitisation.objects.get()
    assert (record.drive, record.completed_at, record.recorded_by, record.verified) == (drive, when, staff_be, True)


def test_snapshot_create_service_matches_only_the_callers_hubs(staff_be, hubs):
    DeviceFactory(donation__hub=hubs["KE-NBO"], manufacturer="Dell", serial_number="5CQ6VY1")
    result = snapshot_create(report=copy.deepcopy(sample(SCRIPT)), actor=staff_be)
    assert result.created and result.snapshot.device is None and result.snapshot.hub.code == "BE-BRU"


def test_the_page_shows_the_differences_in_words(client, staff_be, hubs):
    DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", model="ProBook 640 G1", serial_number="CNU406CLGR")
    client.force_login(staff_be)
    html = _upload(client, json.dumps(sample(WB11)).encode()).content.decode()
    assert "model: typed ProBook 640 G1, report Hp Probook 650 G1" in html
    assert "RAM (GB): typed 8, report 4" in html


def test_a_waiting_report_is_found_by_serial_for_check_in(token_client, staff_be, staff_ke_mba, hubs):
    assert post(token_client(staff_be), sample(WB11)).status_code == 201
    waiting = snapshot_waiting_for_serial(user=staff_be, serial_number=" cnu406clgr ")
    assert (waiting.parsed["category"], waiting.parsed["manufacturer"], waiting.parsed["model"]) == (
        "laptop",
        "HP",
        "Hp Probook 650 G1",
    )
    assert snapshot_waiting_for_serial(user=staff_ke_mba, serial_number="CNU406CLGR") is None  # another hub's
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], manufacturer="HP", serial_number="CNU406CLGR")
    device_transition(device=device, action="receive", actor=staff_be)
    assert snapshot_waiting_for_serial(user=staff_be, serial_number="CNU406CLGR") is None  # linked now


def test_the_drives_fragment_lists_each_drive_and_its_wipe(rf, staff_be, dell_with_drives, hubs):
    from django.template.loader import render_to_string

    first, second = dell_with_drives.drives.order_by("id")
    _wipe(first, staff_be)
    request = rf.get("/")
    request.user = staff_be
    html = render_to_string("refurbishing/_drives.html", {"device": dell_with_drives}, request=request)
    assert "TW0XXM305508539G1361" in html and "wiped (purge" in html
    assert "S33HNX0J203755R" in html and "not wiped yet" in html
    assert f"?drive={second.pk}" in html and f"?drive={first.pk}" not in html
    assert reverse("snapshots:upload") in html
    plain = DeviceFactory(donation__hub=hubs["BE-BRU"])
    html = render_to_string("refurbishing/_drives.html", {"device": plain}, request=request)
    assert "No drive known" in html
