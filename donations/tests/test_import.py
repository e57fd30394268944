"""Importing an asset list: all rows or none, each device pledged in its chain of custody, and the command."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from donations.factories import DonationFactory
from donations.models import DonationChange
from donations.services import DonationError, donation_import_spreadsheet
from refurbishing import services as refurbishing_services
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_transition

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def donation(hubs):
    return DonationFactory(hub=hubs["BE-BRU"], reference="DON-2026-000777")


def _import(donation, text: str, **kwargs):
    return donation_import_spreadsheet(
        donation=donation, actor=None, file=io.BytesIO(text.encode()), filename="list.csv", **kwargs
    )


def test_every_row_becomes_a_pledged_device_with_its_pledge_event(donation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = donation_import_spreadsheet(
            donation=donation,
            actor=None,
            file=(SAMPLES / "glpi-ordinateurs.csv").open("rb"),
            filename="glpi-ordinateurs.csv",
        )
    assert outcome.problems == []
    assert outcome.imported == 3
    assert outcome.unknown_columns == ["Nom", "Entité", "Statut", "Dernière modification"]
    devices = list(Device.objects.filter(donation=donation).order_by("serial_number"))
    assert [d.serial_number for d in devices] == ["1183A2E012345", "5CD0123ABC", "7XK2M53"]
    assert {d.state for d in devices} == {"pledged"}
    assert {d.hub_id for d in devices} == {donation.hub_id}
    events = DeviceEvent.objects.filter(device__donation=donation)
    assert events.count() == 3
    assert {(e.action, e.from_state, e.to_state) for e in events} == {("pledge", "", "pledged")}
    # The impact fold ran after commit and counted the batch's events (pledges add to no counter).
    assert not events.filter(impact_counted=False).exists()
    change = DonationChange.objects.get(donation=donation)
    assert (change.kind, change.changes["count"]) == ("devices_imported", 3)


def test_a_file_with_problems_writes_nothing_and_lists_every_problem(donation, hubs):
    DeviceFactory(donation=DonationFactory(hub=hubs["BE-BRU"]), manufacturer="Dell", serial_number="TAKEN1")
    before = Device.objects.count(), DeviceEvent.objects.count()
    outcome = _import(
        donation,
        "Serial,Brand,Type,RAM\n"
        "OK1,HP,laptop,8\n"
        ",HP,laptop,8\n"
        "OK2,HP,fridge,8\n"
        "OK1,HP,laptop,8\n"
        "TAKEN1,DELL,laptop,8\n"
        "OK3,HP,laptop,eight\n",
    )
    assert outcome.imported == 0
    assert [str(p) for p in outcome.problems] == [
        "row 3, column Serial: missing serial number",
        "row 4, column Type: unknown category “fridge”",
        "row 5, column Serial: serial number also on row 2",
        "row 6, column Serial: serial number already registered for this manufacturer",
        "row 7, column RAM: unreadable size “eight”: write it as 8 or 8 GB",
    ]
    assert (Device.objects.count(), DeviceEvent.objects.count()) == before
    assert not DonationChange.objects.exists()


def test_a_crash_half_way_leaves_nothing_half_written(donation, monkeypatch, settings):
    monkeypatch.setattr(refurbishing_services, "REGISTER_CHUNK_SIZE", 10)
    real_writers = {
        "_bulk_create_chunk": refurbishing_services._bulk_create_chunk,  # SQLite: devices and events per chunk
        "_copy_staging_chunk": refurbishing_services._copy_staging_chunk,  # PostgreSQL: rows streamed to COPY
    }
    calls = []

    def crashing(name):
        def write(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("worker killed")
            return real_writers[name](*args, **kwargs)

        return write

    for name in real_writers:
        monkeypatch.setattr(refurbishing_services, name, crashing(name))
    rows = "".join(f"S{n:04d},Dell,laptop\n" for n in range(50))
    with pytest.raises(RuntimeError):
        _import(donation, "Serial,Brand,Type\n" + rows)
    assert len(calls) == 3  # two chunks were written before the crash...
    assert not Device.objects.filter(donation=donation).exists()  # ...and rolled back with it
    assert not DeviceEvent.objects.exists()


def test_a_header_level_problem_is_reported_once(donation):
    outcome = _import(donation, "Brand,Type\nDell,laptop\nHP,laptop\n")
    assert [str(p) for p in outcome.problems] == [
        "row 1, column Serial number: no column holds the Serial number; choose it in the mapping"
    ]


def test_the_mapping_can_be_corrected(donation):
    text = "Code,Brand,Kind\nA1,Dell,laptop\n"
    assert _import(donation, text, dry_run=True).problems  # "Code" means nothing by itself
    outcome = _import(donation, text, mapping=["serial_number", "manufacturer", "category"])
    assert outcome.problems == []
    assert Device.objects.get(donation=donation).serial_number == "A1"


def test_a_donation_whose_devices_arrived_takes_no_more(donation, staff_be):
    device = DeviceFactory(donation=donation)
    device_transition(device=device, action="receive", actor=staff_be)
    with pytest.raises(DonationError, match="first devices have arrived"):
        _import(donation, "Serial,Brand,Type\nA1,Dell,laptop\n")


def test_command_imports_and_says_how_many(donation, capsys):
    call_command("import_assets", str(SAMPLES / "intune-devices.csv"), "--donation", donation.reference)
    assert capsys.readouterr().out.strip() == "Imported 4 devices"
    assert Device.objects.filter(donation=donation).count() == 4
    assert Device.objects.get(serial_number="F17ZK3ABC12").category == "smartphone"


def test_command_set_gives_a_value_to_a_missing_column(donation, tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_text("Serial;Brand\nA1;Dell\nA2;Dell\n", encoding="utf-8")
    call_command("import_assets", str(path), "--donation", donation.reference, "--set", "category=laptop")
    assert capsys.readouterr().out.strip() == "Imported 2 devices"
    assert set(Device.objects.filter(donation=donation).values_list("category", flat=True)) == {"laptop"}


def test_command_with_problems_exits_1_prints_one_line_each_and_writes_nothing(donation, tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_text("Serial;Brand;Type\nA1;Dell;laptop\n;Dell;laptop\nA3;Dell;toaster\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_assets", str(path), "--donation", donation.reference)
    assert exit_info.value.code == 1
    assert capsys.readouterr().out.splitlines() == [
        "row 3, column Serial: missing serial number",
        "row 4, column Type: unknown category “toaster”",
    ]
    assert not Device.objects.exists()


def test_command_dry_run_writes_nothing(donation, capsys):
    call_command("import_assets", str(SAMPLES / "glpi-ordinateurs.csv"), "--donation", donation.reference, "--dry-run")
    assert "ready to import 3 devices" in capsys.readouterr().out
    assert not Device.objects.exists()


def test_command_refuses_an_unknown_field_and_an_unknown_donation(donation):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="colour: not a device field"):
        call_command(
            "import_assets",
            str(SAMPLES / "glpi-ordinateurs.csv"),
            "--donation",
            donation.reference,
            "--set",
            "colour=red",
        )
    with pytest.raises(CommandError, match="No donation"):
        call_command("import_assets", str(SAMPLES / "glpi-ordinateurs.csv"), "--donation", "DON-0000-000000")


@pytest.mark.postgres
def test_postgres_copy_path_writes_the_same_devices_and_events(donation, monkeypatch):
    monkeypatch.setattr(refurbishing_services, "REGISTER_CHUNK_SIZE", 2)
    text = (
        'Serial,Brand,Type,Weight (kg),Year,RAM,Model\nA1,Dell,laptop,"1,8",2019,8,Lat\\5490\tX\n'
        "A2,Dell,écran,,,,\nA3,HP,PC,,,,\n"
    )
    outcome = _import(donation, text)
    assert outcome.imported == 3
    first = Device.objects.get(serial_number="A1")
    assert (first.category, str(first.weight_kg), first.year, first.ram_gb, first.state) == (
        "laptop",
        "1.80",
        2019,
        8,
        "pledged",
    )
    assert first.model == "Lat\\5490 X"  # a backslash kept, a tab folded into a space as in every text cell
    assert Device.objects.get(serial_number="A2").has_storage_media is False
    events = DeviceEvent.objects.filter(device__donation=donation).order_by("id")
    assert [e.device.serial_number for e in events] == ["A1", "A2", "A3"]
    assert {e.data["donation_id"] for e in events} == {donation.pk}
