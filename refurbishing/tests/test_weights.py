"""A device's WEEE category and weight: the defaults table, the resolution order (measured > declared > model
default > category default), and every path that fills them: registration, imports, edits, hardware reports,
the measured weight at inspection (service, admin, API), recycling, the backfill migration and the exports."""

import copy
import importlib
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from refurbishing import weights
from refurbishing.errors import LifecycleError
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.hardware.services import snapshot_create
from refurbishing.models import Device, DeviceEvent, WeeeCategory, WeightBasis
from refurbishing.services import device_register_many, device_register_stream, device_transition, device_update
from refurbishing.tests.workbench_reports import sample
from refurbishing.weights import (
    TABLE_COLUMNS,
    WeightTableError,
    device_weight_fill,
    weee_category_for_chassis,
    weight_table,
    weight_table_parse,
    weight_values_fill,
)

HEADER = ",".join(TABLE_COLUMNS)
# A table with one model row besides the category rows, for the model-default paths (the shipped table holds only
# rows whose sheet someone read; see docs/weights.md).
TEST_TABLE = f"""# a comment line
{HEADER}
laptop,,,2,2.00,"planning value, not from a published source"
desktop,,,6,7.00,"planning value, not from a published source"
laptop,Dell,Latitude E7240,2,1.34,"Test sheet: Dell Latitude E7240 (https://example.org/e7240)"
desktop,HP,EliteDesk 800 G1 AiO,2,9.10,"Test sheet: an all-in-one desktop (https://example.org/aio)"
"""


@pytest.fixture
def model_table(monkeypatch):
    """The test table in place of the shipped one, for every caller (services, hardware reports, the migration)."""
    table = weight_table_parse(io.StringIO(TEST_TABLE), name="test.csv")
    monkeypatch.setattr(weights, "weight_table", lambda: table)
    monkeypatch.setattr("refurbishing.services.weight_table", lambda: table)
    return table


def _table(body: str):
    return weight_table_parse(io.StringIO(f"{HEADER}\n{body}\n"), name="t.csv")


# The table shipped with the code


def test_every_row_of_the_shipped_table_is_valid_and_cites_its_source():
    weight_table.cache_clear()
    table = weight_table()
    assert table.rows
    for row in table.rows:
        assert row.source.strip()
        assert row.weee_category in WeeeCategory.values
        assert Decimal("0") < row.weight_kg < Decimal("1000")
        # A model row names the sheet it was read from: a title and an address. A category row without a
        # published source says so in plain words.
        if row.model:
            assert "http" in row.source, row
        else:
            assert "published source" in row.source or "http" in row.source, row


def test_every_device_category_has_a_default_row():
    table = weight_table()
    assert {row.category for row in table.rows if not row.model} == set(Device.Category.values)


def test_the_shipped_table_maps_categories_to_annex_iii_as_documented():
    by_category = {row.category: row.weee_category for row in weight_table().rows if not row.model}
    assert {by_category[c] for c in ("laptop", "tablet", "monitor")} == {WeeeCategory.SCREENS}
    assert {by_category[c] for c in ("smartphone", "networking", "desktop")} == {WeeeCategory.SMALL_IT}
    assert by_category["server"] == WeeeCategory.LARGE


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('phone,,,6,0.2,"x"', "unknown device category"),
        ('laptop,,,7,2.00,"x"', "WEEE category"),
        ('laptop,,,2,0,"x"', "weight"),
        ('laptop,,,2,1.234,"x"', "weight"),
        ('laptop,,,2,abc,"x"', "weight"),
        ("laptop,,,2,2.00,", "source"),
        ('laptop,Dell,,2,2.00,"x"', "names both manufacturer and model"),
        ('laptop,,,2,2.00,"x"\nlaptop,,,2,2.10,"y"', "already have a row"),
        ('laptop,Dell,Latitude 5490,2,1.6,"x"\nlaptop,Dell Inc.,LATITUDE 5490,2,1.7,"y"', "already have a row"),
    ],
)
def test_an_invalid_row_refuses_the_table(body, complaint):
    with pytest.raises(WeightTableError, match=complaint):
        _table(body)


def test_a_wrong_header_refuses_the_table():
    with pytest.raises(WeightTableError, match="header"):
        weight_table_parse(io.StringIO("category,weight\nlaptop,2\n"))


# The resolution order, on values alone (no database)


def _values(**extra):
    return {"category": "laptop", "manufacturer": "Dell", "model": "Latitude E7240", "weee_category": None} | extra


def test_a_model_row_comes_before_the_category_row(model_table):
    values = _values(weight_kg=None, weight_basis="", weight_source="")
    weight_values_fill(values, table=model_table)
    assert (values["weight_kg"], values["weight_basis"]) == (Decimal("1.34"), WeightBasis.MODEL_DEFAULT)
    assert values["weight_source"].startswith("Test sheet: Dell Latitude E7240")
    assert values["weee_category"] == WeeeCategory.SCREENS


def test_models_match_whatever_the_registers_spelling(model_table):
    for manufacturer, model in (("DELL INC.", "latitude e7240"), ("Dell", "Dell Latitude E7240"), ("dell", "E7240")):
        values = _values(manufacturer=manufacturer, model=model, weight_kg=None, weight_basis="", weight_source="")
        weight_values_fill(values, table=model_table)
        expected = WeightBasis.MODEL_DEFAULT if model != "E7240" else WeightBasis.CATEGORY_DEFAULT
        assert values["weight_basis"] == expected, (manufacturer, model)


def test_the_category_row_when_the_model_has_none(model_table):
    values = _values(model="Latitude 5490", weight_kg=None, weight_basis="", weight_source="")
    weight_values_fill(values, table=model_table)
    assert (values["weight_kg"], values["weight_basis"]) == (Decimal("2.00"), WeightBasis.CATEGORY_DEFAULT)
    assert values["weight_source"] == "planning value, not from a published source"


def test_a_weight_given_with_the_device_is_declared_and_beats_every_default(model_table):
    values = _values(weight_kg="1.50", weight_basis="", weight_source="")
    weight_values_fill(values, table=model_table)
    assert (values["weight_kg"], values["weight_basis"], values["weight_source"]) == (
        Decimal("1.50"),
        WeightBasis.DECLARED,
        "",
    )


@pytest.mark.parametrize("basis", [WeightBasis.MEASURED, WeightBasis.DECLARED])
def test_a_measured_or_declared_weight_is_never_replaced_by_a_default(model_table, basis):
    values = _values(weight_kg=Decimal("1.41"), weight_basis=basis, weight_source="")
    assert weight_values_fill(values, table=model_table, recategorise=True) == ["weee_category"]
    assert (values["weight_kg"], values["weight_basis"]) == (Decimal("1.41"), basis)


def test_a_default_follows_the_table_when_the_model_changes(model_table):
    values = _values(model="Latitude 5490", weight_kg=None, weight_basis="", weight_source="")
    weight_values_fill(values, table=model_table)
    values["model"] = "Latitude E7240"
    weight_values_fill(values, table=model_table, recategorise=True)
    assert (values["weight_kg"], values["weight_basis"]) == (Decimal("1.34"), WeightBasis.MODEL_DEFAULT)


def test_a_category_the_table_lacks_leaves_weight_and_category_unknown(model_table):
    values = {"category": "server", "manufacturer": "X", "model": "Y", "weee_category": None}
    values |= {"weight_kg": None, "weight_basis": "", "weight_source": ""}
    assert weight_values_fill(values, table=model_table) == []
    assert values["weee_category"] is None and values["weight_kg"] is None


def test_a_chassis_settles_the_weee_category():
    assert weee_category_for_chassis("All In One") == WeeeCategory.SCREENS
    assert weee_category_for_chassis("Rack Mount Chassis") == WeeeCategory.LARGE
    assert weee_category_for_chassis("Notebook") == WeeeCategory.SCREENS
    assert weee_category_for_chassis("Tower") is None  # says nothing about 50 cm
    assert weee_category_for_chassis("") is None


def test_resolution_asks_the_database_nothing(db, django_assert_num_queries, model_table):
    device = Device(category="laptop", manufacturer="Dell", model="Latitude E7240")
    with django_assert_num_queries(0):
        for _ in range(100):
            device_weight_fill(device=device, table=model_table)


# Registration: pledge forms, the admin and the API (device_register_many), imports (device_register_stream)


def test_a_registered_device_without_weight_takes_the_default_with_its_source(hubs, model_table):
    donation_device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    (device,) = device_register_many(
        donation=donation_device.donation,
        hub=hubs["BE-BRU"],
        actor=None,
        rows=[{"category": "laptop", "manufacturer": "Dell", "model": "Latitude E7240", "serial_number": "W1"}],
    )
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis, device.weee_category) == (
        Decimal("1.34"),
        WeightBasis.MODEL_DEFAULT,
        WeeeCategory.SCREENS,
    )
    assert "example.org/e7240" in device.weight_source


def test_a_weight_typed_with_the_pledge_is_declared(hubs):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], weight_kg="1.80")
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis, device.weight_source) == (
        Decimal("1.80"),
        WeightBasis.DECLARED,
        "",
    )
    assert device.weee_category == WeeeCategory.SCREENS


def _stream_rows():
    return [
        {
            "row_number": 2,
            "category": "laptop",
            "manufacturer": "Dell",
            "model": "Latitude E7240",
            "serial_number": "S1",
        },
        {"row_number": 3, "category": "desktop", "manufacturer": "HP", "model": "x", "serial_number": "S2"},
        {
            "row_number": 4,
            "category": "laptop",
            "manufacturer": "HP",
            "model": "y",
            "serial_number": "S3",
            "weight_kg": Decimal("2.2"),
        },
    ]


def _assert_streamed(donation):
    got = {
        d.serial_number: (d.weight_kg, d.weight_basis, d.weee_category)
        for d in Device.objects.filter(donation=donation)
    }
    assert got["S1"] == (Decimal("1.34"), WeightBasis.MODEL_DEFAULT, WeeeCategory.SCREENS)
    assert got["S2"] == (Decimal("7.00"), WeightBasis.CATEGORY_DEFAULT, WeeeCategory.SMALL_IT)
    # The donor's weight column: declared.
    assert got["S3"] == (Decimal("2.20"), WeightBasis.DECLARED, WeeeCategory.SCREENS)


def test_an_import_fills_weights_row_by_row(hubs, model_table, django_assert_max_num_queries):
    from donations.factories import DonationFactory

    donation = DonationFactory(hub=hubs["BE-BRU"])
    # The table is read once; no query per row for weights (one chunk: serial check, label codes, inserts).
    with django_assert_max_num_queries(8):
        assert device_register_stream(donation=donation, hub=hubs["BE-BRU"], actor=None, rows=_stream_rows()) == 3
    _assert_streamed(donation)


@pytest.mark.postgres
def test_an_import_through_copy_fills_weights(hubs, model_table):
    from donations.factories import DonationFactory

    donation = DonationFactory(hub=hubs["BE-BRU"])
    assert device_register_stream(donation=donation, hub=hubs["BE-BRU"], actor=None, rows=_stream_rows()) == 3
    _assert_streamed(donation)


def test_a_spreadsheet_weight_column_becomes_declared_and_rows_without_take_the_default(hubs):
    from donations.factories import DonationFactory
    from donations.services import donation_import_spreadsheet

    donation = DonationFactory(hub=hubs["BE-BRU"])
    text = "Category,Manufacturer,Model,Serial number,Weight\nlaptop,Dell,Latitude 5490,SP1,1.9 kg\nlaptop,HP,x,SP2,\n"
    outcome = donation_import_spreadsheet(
        donation=donation, actor=None, file=io.BytesIO(text.encode()), filename="assets.csv"
    )
    assert outcome.problems == [] and outcome.imported == 2
    got = {d.serial_number: (d.weight_kg, d.weight_basis) for d in Device.objects.filter(donation=donation)}
    assert got == {
        "SP1": (Decimal("1.90"), WeightBasis.DECLARED),
        "SP2": (Decimal("2.00"), WeightBasis.CATEGORY_DEFAULT),
    }


# Edits


def test_an_edited_weight_is_declared_and_clearing_it_brings_the_default_back(hubs, staff_be):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], weight_kg=None)
    assert device.weight_basis == WeightBasis.CATEGORY_DEFAULT
    device = device_update(device=device, actor=staff_be, fields={"weight_kg": Decimal("2.45")})
    assert (device.weight_kg, device.weight_basis, device.weight_source) == (
        Decimal("2.45"),
        WeightBasis.DECLARED,
        "",
    )
    device = device_update(device=device, actor=staff_be, fields={"weight_kg": None})
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis) == (Decimal("2.00"), WeightBasis.CATEGORY_DEFAULT)


def test_a_new_category_brings_its_weee_category_and_default(hubs, staff_be):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], weight_kg=None)
    device = device_update(device=device, actor=staff_be, fields={"category": Device.Category.SERVER})
    device.refresh_from_db()
    assert (device.weee_category, device.weight_kg, device.weight_basis) == (
        WeeeCategory.LARGE,
        Decimal("20.00"),
        WeightBasis.CATEGORY_DEFAULT,
    )


def test_staff_may_set_the_weee_category_by_hand(hubs, staff_be):
    """A printer over 50 cm: category 4, whatever the printer row says."""
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], category=Device.Category.PRINTER, weight_kg=None)
    assert device.weee_category == WeeeCategory.SMALL_IT
    device = device_update(device=device, actor=staff_be, fields={"weee_category": WeeeCategory.LARGE})
    device.refresh_from_db()
    assert device.weee_category == WeeeCategory.LARGE


# Hardware reports


def test_a_hardware_report_refines_the_weee_category_from_its_chassis(hubs, staff_be, model_table):
    # Registered as a desktop (category 6); the report says an all-in-one: a screen over 100 cm².
    device = DeviceFactory(
        donation__hub=hubs["BE-BRU"],
        category=Device.Category.DESKTOP,
        manufacturer="HP",
        model="",
        serial_number="AIO1",
    )
    assert device.weee_category == WeeeCategory.SMALL_IT
    report = copy.deepcopy(sample("snapshot-workbench11.json"))
    report["uuid"] = "0f2b6a3e-7b53-4c7a-9c61-000000000001"
    report["device"] |= {
        "type": "Computer",
        "chassis": "AllInOne",
        "serialNumber": "AIO1",
        "model": "EliteDesk 800 G1 AiO",
        "manufacturer": "HP",
    }
    result = snapshot_create(report=report, actor=staff_be)
    assert result.snapshot.device_id == device.pk
    device.refresh_from_db()
    assert device.weee_category == WeeeCategory.SCREENS
    # The model the report filled in has its own row; the declared weight of the factory stays.
    assert (device.model, device.weight_basis) == ("EliteDesk 800 G1 AiO", WeightBasis.DECLARED)


def test_a_hardware_report_filling_the_model_brings_the_model_default(hubs, staff_be, model_table):
    device = DeviceFactory(
        donation__hub=hubs["BE-BRU"], manufacturer="Dell", model="", serial_number="5CQ6VY1", weight_kg=None
    )
    assert device.weight_basis == WeightBasis.CATEGORY_DEFAULT
    snapshot_create(report=copy.deepcopy(sample("snapshot_workbench-script.json")), actor=staff_be)
    device.refresh_from_db()
    assert device.model == "Latitude E7240"
    assert (device.weight_kg, device.weight_basis, device.weee_category) == (
        Decimal("1.34"),
        WeightBasis.MODEL_DEFAULT,
        WeeeCategory.SCREENS,
    )


# Measured at the bench: the inspection


def _received(hubs, staff, **extra):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"], **extra)
    return device_through(device, "receive", "sanitise", actor=staff)


def test_a_weight_measured_at_inspection_is_measured(hubs, staff_ke_mba):
    device = _received(hubs, staff_ke_mba, weight_kg=None)
    device_transition(
        device=device,
        action="inspect",
        actor=staff_ke_mba,
        record={"passed": True, "grade": "B", "weight_kg": Decimal("1.62")},
    )
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis, device.weight_source) == (
        Decimal("1.62"),
        WeightBasis.MEASURED,
        "",
    )
    event = DeviceEvent.objects.get(device=device, action="inspect")
    assert (event.data["weight_kg"], event.data["weight_basis"]) == ("1.62", "measured")


def test_an_inspection_without_a_weight_leaves_the_weight_as_it_was(hubs, staff_ke_mba):
    device = _received(hubs, staff_ke_mba)
    device_transition(device=device, action="inspect", actor=staff_ke_mba, record={"passed": True, "grade": "A"})
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis) == (Decimal("1.80"), WeightBasis.DECLARED)


@pytest.mark.parametrize("weight", ["0", "-1", "abc", "100000"])
def test_an_impossible_measured_weight_is_refused_and_nothing_moves(hubs, staff_ke_mba, weight):
    device = _received(hubs, staff_ke_mba)
    with pytest.raises(LifecycleError) as refused:
        device_transition(
            device=device, action="inspect", actor=staff_ke_mba, record={"passed": False, "weight_kg": weight}
        )
    assert "weight_kg" in refused.value.field_errors
    device.refresh_from_db()
    assert (device.state, device.weight_basis) == (Device.State.SANITISED, WeightBasis.DECLARED)


def test_the_api_inspect_move_records_the_measured_weight(hubs, staff_ke_mba, token_client):
    device = _received(hubs, staff_ke_mba)
    client = token_client(staff_ke_mba)
    body = {"action": "inspect", "passed": True, "grade": "A", "weight_kg": "1.71"}
    response = client.post(f"/api/v1/devices/{device.pk}/transitions/", body, format="json")
    assert response.status_code == 200, response.content
    payload = response.json()
    assert (payload["weight_kg"], payload["weight_basis"], payload["weee_category"]) == ("1.71", "measured", 2)
    refused = client.post(
        f"/api/v1/devices/{device.pk}/transitions/", {"action": "inspect", "weight_kg": "-3"}, format="json"
    )
    assert refused.status_code == 400


def test_the_api_inspect_move_stays_refused_at_another_hub(hubs, staff_ke_mba, staff_be, token_client):
    device = _received(hubs, staff_ke_mba)
    body = {"action": "inspect", "passed": True, "grade": "A", "weight_kg": "1.71"}
    response = token_client(staff_be).post(f"/api/v1/devices/{device.pk}/transitions/", body, format="json")
    assert response.status_code == 404
    device.refresh_from_db()
    assert device.weight_basis == WeightBasis.DECLARED


def test_the_admin_inspect_action_records_the_measured_weight(client, hubs, staff_ke_mba):
    device = _received(hubs, staff_ke_mba)
    client.force_login(staff_ke_mba)
    url = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "inspect"])
    form = client.get(url)
    assert "weight measured (kg)" in form.content.decode()
    response = client.post(
        url,
        {"apply": "1", "lifecycle-passed": "true", "lifecycle-grade": "A", "lifecycle-weight_kg": "1.55"},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.state, device.weight_kg, device.weight_basis) == (
        Device.State.INSPECTED,
        Decimal("1.55"),
        WeightBasis.MEASURED,
    )


def test_the_admin_list_filters_by_weee_category_and_basis(client, hubs, staff_ke_mba):
    laptop = DeviceFactory(donation__hub=hubs["KE-MBA"], weight_kg=None)
    phone = DeviceFactory(donation__hub=hubs["KE-MBA"], category=Device.Category.SMARTPHONE)
    client.force_login(staff_ke_mba)
    changelist = reverse("admin:refurbishing_device_changelist")
    screens = client.get(changelist, {"weee_category__exact": "2"}).context["cl"].result_list
    assert [d.pk for d in screens] == [laptop.pk]
    declared = client.get(changelist, {"weight_basis__exact": "declared"}).context["cl"].result_list
    assert [d.pk for d in declared] == [phone.pk]
    page = client.get(reverse("admin:refurbishing_device_change", args=[laptop.pk])).content.decode()
    assert "planning value, not from a published source" in page
    assert 'name="weight_basis"' not in page  # read-only: shown, never typed


# Recycling: a weight other than the record's is weighed at the hand-over


def test_recycling_with_another_weight_makes_it_measured(hubs, staff_ke_mba):
    device = _received(hubs, staff_ke_mba, weight_kg=None)
    device_transition(device=device, action="inspect", actor=staff_ke_mba, record={"passed": False})
    device_transition(device=device, action="recycle", actor=staff_ke_mba, data={"weight_kg": "2.35"})
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis) == (Decimal("2.35"), WeightBasis.MEASURED)


def test_recycling_with_the_records_weight_keeps_its_basis(hubs, staff_ke_mba):
    device = _received(hubs, staff_ke_mba, weight_kg=None)
    device_transition(device=device, action="inspect", actor=staff_ke_mba, record={"passed": False})
    device_transition(device=device, action="recycle", actor=staff_ke_mba, data={"weight_kg": device.weight_kg})
    device.refresh_from_db()
    assert (device.weight_kg, device.weight_basis) == (Decimal("2.00"), WeightBasis.CATEGORY_DEFAULT)


# The backfill migration


def test_the_backfill_fills_devices_registered_before_the_table_and_keeps_declared_weights(hubs):
    from django.apps import apps

    migration = importlib.import_module("refurbishing.migrations.0016_device_weight_defaults")
    unweighed = DeviceFactory(donation__hub=hubs["BE-BRU"], weight_kg=None)
    declared = DeviceFactory(donation__hub=hubs["BE-BRU"], category=Device.Category.SMARTPHONE, weight_kg="0.21")
    # As 0014 left them: no category; a weight only where one was recorded, then "declared".
    Device.objects.filter(pk=unweighed.pk).update(weee_category=None, weight_kg=None, weight_basis="", weight_source="")
    Device.objects.filter(pk=declared.pk).update(weee_category=None, weight_basis="declared", weight_source="")

    migration.devices_weight_defaults_fill(apps, None)

    unweighed.refresh_from_db()
    declared.refresh_from_db()
    assert (unweighed.weee_category, unweighed.weight_kg, unweighed.weight_basis) == (
        WeeeCategory.SCREENS,
        Decimal("2.00"),
        WeightBasis.CATEGORY_DEFAULT,
    )
    assert unweighed.weight_source.startswith("planning value")
    assert (declared.weee_category, declared.weight_kg, declared.weight_basis) == (
        WeeeCategory.SMALL_IT,
        Decimal("0.21"),
        WeightBasis.DECLARED,
    )


# What the donor sees


def test_the_donors_device_page_says_the_weight_and_its_basis_in_words(client, hubs, donor_user):
    from donations.factories import DonationFactory

    donation = DonationFactory(hub=hubs["BE-BRU"], donor=donor_user.donors.first())
    device = DeviceFactory(donation=donation, weight_kg=None)
    client.force_login(donor_user)
    page = client.get(reverse("donations:device", args=[donation.reference, device.pk])).content.decode()
    assert "about 2.00 kg, an estimate for this kind of device" in page
    assert "2. Screens, monitors and equipment with screens over 100 cm²" in page


def test_the_donors_device_export_has_weee_category_weight_and_basis(client, hubs, donor_user):
    from donations.factories import DonationFactory

    donation = DonationFactory(hub=hubs["BE-BRU"], donor=donor_user.donors.first())
    DeviceFactory(donation=donation, weight_kg="1.80")
    client.force_login(donor_user)
    response = client.get("/en/donors/devices.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[-3:] == ["WEEE category", "Weight (kg)", "Weight basis"]
    row = [cell.value for cell in sheet[2]]
    assert row[-3:] == [2, "1.80", "declared by the donor or a hardware report"]


def test_the_api_device_lists_the_weight_fields(hubs, staff_be, token_client):
    DeviceFactory(donation__hub=hubs["BE-BRU"], weight_kg=None)
    body = token_client(staff_be).get("/api/v1/devices/").json()["results"][0]
    assert {key: body[key] for key in ("weee_category", "weight_kg", "weight_basis")} == {
        "weee_category": 2,
        "weight_kg": "2.00",
        "weight_basis": "category",
    }
    assert json.dumps(body["weight_source"]).startswith('"planning value')


def test_the_fill_command_applies_a_new_model_row_to_defaults_only(hubs, staff_ke_mba, monkeypatch):
    from django.core.management import call_command

    defaulted = DeviceFactory(donation__hub=hubs["KE-MBA"], manufacturer="Dell", model="Latitude E7240", weight_kg=None)
    weighed = _received(hubs, staff_ke_mba, manufacturer="Dell", model="Latitude E7240", weight_kg=None)
    device_transition(
        device=weighed, action="inspect", actor=staff_ke_mba, record={"passed": True, "grade": "A", "weight_kg": "1.5"}
    )
    assert defaulted.weight_basis == WeightBasis.CATEGORY_DEFAULT
    # The row is added to the table after both were registered.
    table = weight_table_parse(io.StringIO(TEST_TABLE), name="test.csv")
    monkeypatch.setattr("refurbishing.management.commands.device_weights_fill.weight_table", lambda: table)
    out = io.StringIO()
    call_command("device_weights_fill", stdout=out)
    assert out.getvalue().startswith("1 devices updated")
    defaulted.refresh_from_db()
    weighed.refresh_from_db()
    assert (defaulted.weight_kg, defaulted.weight_basis) == (Decimal("1.34"), WeightBasis.MODEL_DEFAULT)
    assert (weighed.weight_kg, weighed.weight_basis) == (Decimal("1.50"), WeightBasis.MEASURED)
