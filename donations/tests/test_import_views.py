"""The import on the donor pages: upload, mapping preview, import with progress, templates, and who may see what."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from donations.factories import DonationFactory, DonorFactory
from donations.models import Donation, SpreadsheetImport
from donations.services import spreadsheet_import_run
from hubs.factories import UserFactory
from refurbishing import services as refurbishing_services
from refurbishing.models import Device, DeviceEvent

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def donation(hubs, donor_user):
    return DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])


@pytest.fixture
def signed_in(client, donor_user):
    client.force_login(donor_user)
    return client


def upload(client, url, content: bytes, name: str = "list.csv", **data):
    return client.post(url, {"file": SimpleUploadedFile(name, content), **data})


def test_upload_preview_and_import_into_a_pledge(signed_in, donation, django_capture_on_commit_callbacks):
    response = upload(
        signed_in,
        reverse("donations:import_into", args=[donation.reference]),
        (SAMPLES / "glpi-ordinateurs.csv").read_bytes(),
        "glpi-ordinateurs.csv",
    )
    spreadsheet_import = SpreadsheetImport.objects.get()
    assert response.url == reverse("donations:import_preview", args=[spreadsheet_import.pk])
    assert not Device.objects.exists()  # checked, not written

    preview = signed_in.get(response.url).content.decode()
    assert "3 device rows read" in preview
    assert "No problems found" in preview
    assert "Ignored columns: Nom, Entité, Statut, Dernière modification" in preview
    assert '<option value="serial_number" selected>' in preview

    post = {f"column_{i}": name or "" for i, name in enumerate(spreadsheet_import.mapping)} | {"import": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(response.url, post)
    assert response.url == reverse("donations:import_progress", args=[spreadsheet_import.pk])
    # Eager Celery (the embedded default) imported it right after the commit.
    assert Device.objects.filter(donation=donation).count() == 3
    assert DeviceEvent.objects.filter(device__donation=donation, action="pledge").count() == 3
    progress = signed_in.get(reverse("donations:import_progress_json", args=[spreadsheet_import.pk])).json()
    assert progress | {"status_label": ""} == progress | {
        "status": "done",
        "status_label": "",
        "finished": True,
        "done": 3,
        "total": 3,
        "percent": 100,
        "imported": 3,
        "donation": donation.reference,
    }
    page = signed_in.get(response.url).content.decode()
    assert "3 devices imported" in page
    spreadsheet_import.refresh_from_db()
    assert bytes(spreadsheet_import.content) == b""  # the donor's file is not kept once imported
    history = signed_in.get(reverse("donations:detail", args=[donation.reference])).content.decode()
    assert "Devices imported" in history and "glpi-ordinateurs.csv" in history


def test_problems_are_listed_before_anything_is_written_and_import_is_refused(signed_in, donation):
    content = b"Serial;Brand;Type\nA1;Dell;laptop\n;Dell;laptop\nA1;Dell;fridge\n"
    response = upload(signed_in, reverse("donations:import_into", args=[donation.reference]), content)
    preview = signed_in.get(response.url).content.decode()
    assert "3 problems to fix" in preview
    assert "missing serial number" in preview
    assert "serial number also on row 2" in preview
    assert "unknown category “fridge”" in preview
    assert 'name="import"' not in preview
    spreadsheet_import = SpreadsheetImport.objects.get()
    post = {f"column_{i}": name or "" for i, name in enumerate(spreadsheet_import.mapping)} | {"import": "1"}
    signed_in.post(response.url, post)
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.status == "uploaded"
    assert not Device.objects.exists()


def test_the_person_corrects_the_mapping_and_the_problems_go(signed_in, donation, django_capture_on_commit_callbacks):
    content = b"Code,Brand,Kind\nA1,Dell,laptop\nA2,HP,monitor\n"
    response = upload(signed_in, reverse("donations:import_into", args=[donation.reference]), content)
    preview_url = response.url
    assert "no column holds the Serial number" in signed_in.get(preview_url).content.decode()

    fixed = {"column_0": "serial_number", "column_1": "manufacturer", "column_2": "category", "check": "1"}
    signed_in.post(preview_url, fixed)
    preview = signed_in.get(preview_url).content.decode()
    assert "No problems found" in preview
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(preview_url, fixed | {"import": "1"})
    assert sorted(Device.objects.values_list("serial_number", "has_storage_media")) == [("A1", True), ("A2", False)]


def test_a_column_mapped_twice_is_refused(signed_in, donation):
    response = upload(signed_in, reverse("donations:import_into", args=[donation.reference]), b"Serial,Other\nA1,B1\n")
    page = signed_in.post(response.url, {"column_0": "serial_number", "column_1": "serial_number"})
    assert "already fills this field" in page.content.decode()


def test_a_new_pledge_from_a_spreadsheet_creates_the_donation_with_its_devices(
    signed_in, hubs, django_capture_on_commit_callbacks
):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Numéro de série", "Marque", "Type", "Mémoire (Mo)"])
    workbook.active.append(["X1", "Lenovo", "Ordinateurs portables", 8192])
    workbook.active.append(["X2", "Iiyama", "écran", None])
    out = io.BytesIO()
    workbook.save(out)
    response = upload(
        signed_in,
        reverse("donations:import_pledge"),
        out.getvalue(),
        "assets.xlsx",
        hub=hubs["BE-BRU"].pk,
        pickup_address="Rue Haute 1",
        pickup_date="",
        notes="Dock B",
    )
    assert not Donation.objects.exists()  # the donation comes with its devices, both or neither
    spreadsheet_import = SpreadsheetImport.objects.get()
    post = {f"column_{i}": name or "" for i, name in enumerate(spreadsheet_import.mapping)} | {"import": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(response.url, post)
    donation = Donation.objects.get()
    assert (donation.hub, donation.notes) == (hubs["BE-BRU"], "Dock B")
    assert sorted(Device.objects.filter(donation=donation).values_list("serial_number", "category", "ram_gb")) == [
        ("X1", "laptop", 8),
        ("X2", "monitor", None),
    ]


def test_another_donors_donation_and_upload_are_404(client, donation, hubs):
    stranger = UserFactory(username="other-donor")
    DonorFactory(legal_name="Other NV").users.add(stranger)
    content = (SAMPLES / "intune-devices.csv").read_bytes()
    client.force_login(donation.donor.users.get())
    preview_url = upload(client, reverse("donations:import_into", args=[donation.reference]), content).url
    spreadsheet_import = SpreadsheetImport.objects.get()

    client.force_login(stranger)
    assert upload(client, reverse("donations:import_into", args=[donation.reference]), content).status_code == 404
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url, {"import": "1"}).status_code == 404
    assert client.get(reverse("donations:import_progress", args=[spreadsheet_import.pk])).status_code == 404
    assert client.get(reverse("donations:import_progress_json", args=[spreadsheet_import.pk])).status_code == 404
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.7\n", "list.pdf", "Upload a CSV or XLSX file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "old Excel .xls"),
        (b"Serial\n" + b"A" * 3000 + b"\n", "big.csv", "the largest file accepted is 0 MB"),
    ],
)
def test_wrong_type_or_oversized_upload_gets_a_clear_error(signed_in, donation, settings, content, name, message):
    settings.IMPORT_MAX_FILE_BYTES = 2000
    response = upload(signed_in, reverse("donations:import_into", args=[donation.reference]), content, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SpreadsheetImport.objects.exists()


def test_uploads_are_rate_limited(signed_in, donation, settings):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "asset_import": "2/h"}
    cache.clear()
    url = reverse("donations:import_into", args=[donation.reference])
    content = b"Serial,Brand,Type\nA1,Dell,laptop\n"
    assert upload(signed_in, url, content).status_code == 302
    assert upload(signed_in, url, content).status_code == 302
    refused = upload(signed_in, url, content)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    cache.clear()


def test_the_templates_download_as_csv_and_xlsx(client):
    csv_response = client.get(reverse("donations:import_template_csv"))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode("utf-8-sig").startswith("Serial number,Manufacturer,Model")
    xlsx_response = client.get(reverse("donations:import_template_xlsx"))
    assert "attachment" in xlsx_response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content), read_only=True).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[0] == "Serial number"


def _queued_import(signed_in, donation, content: bytes) -> SpreadsheetImport:
    upload(signed_in, reverse("donations:import_into", args=[donation.reference]), content)
    spreadsheet_import = SpreadsheetImport.objects.get()
    SpreadsheetImport.objects.filter(pk=spreadsheet_import.pk).update(status="queued")
    return spreadsheet_import


def test_the_import_task_run_twice_imports_once(signed_in, donation):
    spreadsheet_import = _queued_import(signed_in, donation, b"Serial,Brand,Type\nA1,Dell,laptop\nA2,Dell,laptop\n")
    assert spreadsheet_import_run(import_id=spreadsheet_import.pk) == 2
    assert spreadsheet_import_run(import_id=spreadsheet_import.pk) == 2  # found done: nothing more
    assert Device.objects.count() == 2


def test_a_task_that_crashes_half_way_leaves_nothing_and_says_so(signed_in, donation, monkeypatch):
    rows = b"".join(b"S%04d,Dell,laptop\n" % n for n in range(30))
    spreadsheet_import = _queued_import(signed_in, donation, b"Serial,Brand,Type\n" + rows)
    monkeypatch.setattr(refurbishing_services, "REGISTER_CHUNK_SIZE", 10)
    real_writers = {
        "_bulk_create_chunk": refurbishing_services._bulk_create_chunk,  # SQLite: devices and events per chunk
        "_copy_staging_chunk": refurbishing_services._copy_staging_chunk,  # PostgreSQL: rows streamed to COPY
    }
    calls = []

    def crashing(name):
        def write(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return real_writers[name](*args, **kwargs)

        return write

    for name in real_writers:
        monkeypatch.setattr(refurbishing_services, name, crashing(name))
    assert spreadsheet_import_run(import_id=spreadsheet_import.pk) == 0
    spreadsheet_import.refresh_from_db()
    assert spreadsheet_import.status == "failed"
    assert "nothing was imported" in spreadsheet_import.error
    assert not Device.objects.exists()
    assert not DeviceEvent.objects.exists()


def test_a_pledge_from_a_spreadsheet_waits_for_a_verified_address(client, db):
    """A file is a pledge too: before the address is confirmed the page explains and offers the link again."""
    from donations.factories import DonorFactory
    from hubs.factories import UserFactory

    user = UserFactory(username="unverified-donor", email="it@unverified.example")
    DonorFactory().users.add(user)
    client.force_login(user)
    response = client.get(reverse("donations:import_pledge"))
    assert response.status_code == 403
    assert "Confirm your e-mail address first" in response.content.decode()


def _snipe_it_export(rows: int = 30) -> list[list]:
    """A Snipe-IT asset export as donors send it: sizes written with their units and the drive's kind."""
    header = ["Asset Tag", "Name", "Serial", "Model", "Category", "Manufacturer", "Status", "RAM", "Storage"]
    storages = ["256 GB SSD", "512G NVMe", "1TB HDD"]
    body = [
        [f"CTG-{n:04d}", f"LT-{n:04d}", f"5CG{n:07d}", "EliteBook 840 G5", "Laptops", "HP", "Ready to Deploy"]
        + [("8 GB", "16GB DDR4")[n % 2], storages[n % 3]]
        for n in range(1, rows + 1)
    ]
    return [header, *body]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_snipe_it_export_with_sizes_and_kinds_is_read_and_previewed_before_anything_is_written(
    signed_in, hubs, donor_user, kind, django_capture_on_commit_callbacks
):
    """Issue 21 (2) and 20 (3): "256 GB SSD" was refused whole with 30 "unreadable number" lines; the check
    page now reads it, shows each column's values beside its field, names the hub and the first rows."""
    rows = _snipe_it_export()
    if kind == "csv":
        content = "\n".join(",".join(row) for row in rows).encode()
    else:
        workbook = openpyxl.Workbook()
        for row in rows:
            workbook.active.append(row)
        out = io.BytesIO()
        workbook.save(out)
        content = out.getvalue()
    DonationFactory(donor=donor_user.donors.get(), hub=hubs["KE-NBO"])  # the donor's usual hub is Nairobi
    form = signed_in.get(reverse("donations:import_pledge")).content.decode()
    assert f'<option value="{hubs["KE-NBO"].pk}" selected>' in form
    assert "where your last donation went" in form

    response = upload(
        signed_in,
        reverse("donations:import_pledge"),
        content,
        f"snipe-it-assets.{kind}",
        hub=hubs["KE-NBO"].pk,
        pickup_address="Rue Haute 1",
        pickup_date="",
        notes="",
    )
    spreadsheet_import = SpreadsheetImport.objects.get()
    assert spreadsheet_import.problem_count == 0, spreadsheet_import.problems
    assert not Device.objects.filter(serial_number__startswith="5CG").exists()

    page = signed_in.get(response.url).content.decode()
    assert "No problems found" in page
    assert "Receiving hub: <strong>" in page and "(KE-NBO)" in page
    # Each column's values beside the field it fills.
    assert "For example: 512G NVMe · 1TB HDD · 256 GB SSD" in page
    assert "For example: 16GB DDR4 · 8 GB" in page
    # The first rows as they will be written, with the totals.
    assert "30 devices can be imported (Laptop: 30)." in page
    assert "The first 5 devices, as they will be written" in page
    assert "<td>5CG0000001</td>" in page and "<td>512 GB NVMe SSD</td>" in page and "<td>16 GB</td>" in page
    assert "<td>5CG0000006</td>" not in page

    post = {f"column_{i}": name or "" for i, name in enumerate(spreadsheet_import.mapping)} | {"import": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(response.url, post)
    devices = Device.objects.filter(serial_number__startswith="5CG").order_by("serial_number")
    assert devices.count() == 30
    assert [(d.ram_gb, d.storage_gb, d.storage_kind) for d in devices[:3]] == [
        (16, 512, "nvme"),
        (8, 1000, "hdd"),
        (16, 256, "ssd"),
    ]
    assert {d.hub.code for d in devices} == {"KE-NBO"}


def test_without_a_usual_hub_the_person_chooses_one(signed_in, donor_user, hubs):
    donor = donor_user.donors.get()
    donor.country = "US"  # no hub in or near it
    donor.save(update_fields=["country"])
    form = signed_in.get(reverse("donations:import_pledge")).content.decode()
    assert '<option value="" selected>Choose the receiving hub</option>' in form
