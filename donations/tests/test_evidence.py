"""Evidence for an auditor: the archive's contents, its manifest, refusals that write nothing, and who may see it."""

import csv
import hashlib
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from donations.factories import DonationFactory
from donations.models import EvidenceArchive
from donations.services import (
    DonationError,
    donation_certificate_issue,
    donation_recycling_certificate_issue,
    evidence_archive_start,
)
from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from refurbishing.factories import (
    DeviceFactory,
    RecyclingPartnerFactory,
    VendorCertificateFactory,
    device_through,
    wipe_sample_passed,
)
from refurbishing.models import RecyclingBatch
from refurbishing.recycling.services import recycling_batch_add_devices, recycling_batch_close
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_be(hubs):
    user = StaffFactory(username="manager-be-bru")
    hub_membership_add(hub=hubs["BE-BRU"], user=user, role="manager")
    return user


@pytest.fixture
def evidence(hubs, donor_user, staff_be, manager_be):
    """At BE-BRU: a donation wiped, sampled and certified, one of its devices recycled in a closed batch."""
    donation = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    kept, recycled = DeviceFactory.create_batch(2, donation=donation)
    device_through(kept, "receive", "sanitise", actor=staff_be)
    device_through(recycled, "receive", "sanitise", actor=staff_be)
    device_transition(device=recycled, action="inspect", actor=staff_be, record={"passed": False})
    vendor = RecyclingPartnerFactory(name="WorldLoop", country="BE")
    in_force = VendorCertificateFactory(vendor=vendor, number="R2-IN-FORCE")
    VendorCertificateFactory(
        vendor=vendor,
        number="R2-OLD",
        valid_from=timezone.localdate() - timedelta(days=900),
        expires_on=timezone.localdate() - timedelta(days=400),
    )
    batch = RecyclingBatch.objects.create(hub=hubs["BE-BRU"], partner=vendor, reference="RB-BRU-EVID")
    recycling_batch_add_devices(batch=batch, actor=manager_be, devices=[recycled])
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("2.50"))
    sample = wipe_sample_passed(donation)
    sanitisation = donation_certificate_issue(donation=donation)
    recycling_certificate = donation_recycling_certificate_issue(donation=donation)
    return {
        "donation": donation,
        "sample": sample,
        "certificates": [sanitisation, recycling_certificate],
        "batch": batch,
        "in_force": in_force,
    }


def _today():
    return timezone.localdate()


def _build(client, manager, hub, **dates):
    client.force_login(manager)
    answer = client.post(
        "/en/evidence/",
        {"hub": hub.pk, "date_from": dates.get("date_from", _today() - timedelta(days=7)), "date_to": _today()},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    archive = EvidenceArchive.objects.get()
    assert answer["Location"] == f"/en/evidence/{archive.pk}/"
    return archive


def _csv(zf: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


def test_the_archive_holds_each_part_and_its_manifest_verifies(
    client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    archive.refresh_from_db()
    assert archive.status == EvidenceArchive.Status.DONE and archive.done == archive.total == 2 + 5

    progress = client.get(f"/en/evidence/{archive.pk}/progress.json").json()
    assert progress["finished"] and progress["percent"] == 100
    assert "Download the archive" in client.get(f"/en/evidence/{archive.pk}/").content.decode()
    download = client.get(f"/en/evidence/{archive.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == archive.sha256

    zf = zipfile.ZipFile(io.BytesIO(content))
    manifest = zf.read("MANIFEST.sha256").decode().splitlines()
    listed = {}
    for line in manifest:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest  # what sha256sum -c checks
    assert set(listed) == set(zf.namelist()) - {"MANIFEST.sha256"}

    custody = _csv(zf, "chain_of_custody.csv")
    assert {"receive", "sanitise", "inspect", "recycle"} <= {row["action"] for row in custody}
    assert {int(row["device"]) for row in custody} == {d.pk for d in evidence["donation"].devices.all()}
    pdfs = sorted(name for name in zf.namelist() if name.startswith("certificates/"))
    assert pdfs == sorted(f"certificates/{c.kind}-{c.number}.pdf" for c in evidence["certificates"])
    assert all(zf.read(name).startswith(b"%PDF") for name in pdfs)
    samples = _csv(zf, "wipe_samples.csv")
    assert [row["seed"] for row in samples] == [evidence["sample"].seed]
    assert samples[0]["result"] == "passed" and samples[0]["verified_by"] != samples[0]["wiped_by"]
    vendors = _csv(zf, "vendor_certificates.csv")
    assert [row["number"] for row in vendors] == ["R2-IN-FORCE"]  # the expired one was not in force
    dispatches = _csv(zf, "dispatches.csv")
    assert {row["batch"] for row in dispatches} == {"RB-BRU-EVID"}
    assert {row["waste_stream"] for row in dispatches} >= {"circuit_boards", "plastics"}
    assert all(Decimal(row["devices_kg"]) == Decimal("2.50") for row in dispatches)


def test_another_hubs_manager_and_a_technician_are_refused(
    client, hubs, manager_be, staff_be, manager_ke_mba, evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    for outsider in (manager_ke_mba, staff_be):
        client.force_login(outsider)
        for url in ("", "progress.json", "download/"):
            assert client.get(f"/en/evidence/{archive.pk}/{url}").status_code == 404
    client.force_login(staff_be)
    assert client.get("/en/evidence/").status_code == 404
    # A manager of another hub cannot ask for this hub's evidence either.
    with pytest.raises(DonationError):
        evidence_archive_start(
            actor=manager_ke_mba, hub=hubs["BE-BRU"], date_from=_today() - timedelta(days=1), date_to=_today()
        )
    client.force_login(manager_ke_mba)
    answer = client.post("/en/evidence/", {"hub": hubs["BE-BRU"].pk, "date_from": _today(), "date_to": _today()})
    assert answer.status_code == 400
    assert EvidenceArchive.objects.count() == 1


@pytest.mark.parametrize(
    ("days_back", "days_long", "message"),
    [(0, -3, "runs backwards"), (400, 400, "too long")],
)
def test_a_backwards_or_too_long_range_is_refused_with_nothing_written(
    client, hubs, manager_be, days_back, days_long, message
):
    client.force_login(manager_be)
    date_from = _today() - timedelta(days=days_back)
    date_to = date_from + timedelta(days=days_long)
    answer = client.post("/en/evidence/", {"hub": hubs["BE-BRU"].pk, "date_from": date_from, "date_to": date_to})
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not EvidenceArchive.objects.exists()


def test_a_second_run_of_a_finished_archive_changes_nothing(
    client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    from donations.services import evidence_archive_build

    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    archive.refresh_from_db()
    again = evidence_archive_build(archive_id=archive.pk)
    assert (again.sha256, again.file_name) == (archive.sha256, archive.file_name)


def test_admin_lists_archives_to_the_hubs_managers_only(
    client, hubs, manager_be, staff_be, manager_ke_mba, evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    url = f"/admin/donations/evidencearchive/{archive.pk}/change/"
    client.force_login(manager_be)
    assert client.get(url).status_code == 200
    assert client.post(url, {"status": "failed"}).status_code == 403
    client.force_login(manager_ke_mba)
    assert client.get(url).status_code == 404
    client.force_login(staff_be)
    assert client.get("/admin/donations/evidencearchive/").status_code == 403


# The API: the same archive, the same people (only the hub's managers), for an auditor's or a hub's own systems.

API = "/api/v1/evidence-archives/"


def _range(days_back: int = 7) -> dict:
    return {"date_from": (_today() - timedelta(days=days_back)).isoformat(), "date_to": _today().isoformat()}


def test_a_manager_builds_polls_and_downloads_an_archive_through_the_api(
    token_client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    api = token_client(manager_be)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(API, {"hub": "BE-BRU", **_range()}, format="json")
    assert started.status_code == 202, started.content
    body = started.json()
    assert (body["hub"], body["status"], body["finished"], body["download_url"]) == ("BE-BRU", "queued", False, None)
    assert body["requested_by"] == "manager-be-bru"

    # The build ran after commit (eagerly here): polling shows it finished, with where to download it.
    polled = api.get(f"{API}{body['id']}/").json()
    archive = EvidenceArchive.objects.get()
    assert (polled["status"], polled["percent"], polled["finished"]) == ("done", 100, True)
    assert polled["done"] == polled["total"] == 2 + 5 and polled["sha256"] == archive.sha256
    assert polled["download_url"].endswith(f"{API}{archive.pk}/download/")
    assert [row["id"] for row in api.get(API).json()["results"]] == [archive.pk]

    for accept in ("application/zip", "application/json", "*/*"):
        download = api.get(polled["download_url"], HTTP_ACCEPT=accept)
        assert download.status_code == 200 and download["Content-Type"] == "application/zip", accept
        content = b"".join(download.streaming_content)
        assert hashlib.sha256(content).hexdigest() == archive.sha256
        assert "MANIFEST.sha256" in zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert f"evidence-BE-BRU-{archive.date_from}-{archive.date_to}.zip" in download["Content-Disposition"]


def test_an_archive_still_being_built_is_not_downloaded_yet(token_client, hubs, manager_be):
    api = token_client(manager_be)
    started = api.post(API, {"hub": "BE-BRU", **_range()}, format="json")  # its build waits for the commit
    assert started.status_code == 202
    answer = api.get(f"{API}{started.json()['id']}/download/")
    assert answer.status_code == 409
    assert answer.json()["detail"] == "The archive is not ready yet: wait until it is built."


def test_the_api_shows_and_builds_nothing_for_anyone_but_the_hubs_managers(
    token_client, hubs, manager_be, staff_be, manager_ke_mba, evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        built = token_client(manager_be).post(API, {"hub": "BE-BRU", **_range()}, format="json").json()
    for outsider in (manager_ke_mba, staff_be):
        api = token_client(outsider)
        assert api.get(API).json()["results"] == []
        for path in ("", "download/"):
            answer = api.get(f"{API}{built['id']}/{path}")
            assert answer.status_code == 404, (outsider, path)

    # A technician manages no hub: nothing to ask for. A manager of Mombasa cannot ask for Brussels.
    refused = token_client(staff_be).post(API, {"hub": "BE-BRU", **_range()}, format="json")
    assert refused.status_code == 404
    assert refused.json()["detail"] == "You manage no hub: evidence archives are for a hub's managers."
    refused = token_client(manager_ke_mba).post(API, {"hub": "BE-BRU", **_range()}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["hub"] == ["No hub with the code BE-BRU among the hubs you manage."]
    assert EvidenceArchive.objects.count() == 1


@pytest.mark.parametrize(
    ("days_back", "days_long", "message"),
    [
        (0, -3, "The range runs backwards: the first day is after the last day."),
        (400, 400, "The range is too long: at most 366 days in one archive."),
        (-5, 1, "The range starts in the future."),
    ],
)
def test_the_api_refuses_a_bad_range_with_its_reason_and_writes_nothing(
    token_client, hubs, manager_be, days_back, days_long, message
):
    date_from = _today() - timedelta(days=days_back)
    body = {"hub": "BE-BRU", "date_from": date_from.isoformat(), "date_to": (date_from + timedelta(days=days_long))}
    answer = token_client(manager_be).post(API, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"non_field_errors": [message]}
    assert not EvidenceArchive.objects.exists()


def test_the_archive_is_kept_in_the_private_storage_with_no_address(
    client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from common.storage import private_storage

    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    archive.refresh_from_db()
    assert private_storage().exists(archive.file_name)
    assert not default_storage.exists(archive.file_name)  # never where public files would go


# Where a manager finds it: the hub's dashboard and the admin, shown to the hub's managers only.


def test_the_hub_dashboard_links_its_managers_to_the_evidence_page_with_the_hub_chosen(
    client, hubs, manager_be, staff_be
):
    client.force_login(manager_be)
    dashboard = client.get("/en/hubs/BE-BRU/dashboard/")
    assert dashboard.status_code == 200
    assert 'href="/en/evidence/?hub=BE-BRU"' in dashboard.content.decode()
    form = client.get("/en/evidence/?hub=BE-BRU").context["form"]
    assert form["hub"].value() == hubs["BE-BRU"].pk
    client.force_login(staff_be)  # a technician sees neither the dashboard nor the page behind the link
    assert client.get("/en/hubs/BE-BRU/dashboard/").status_code == 404
    assert client.get("/en/evidence/?hub=BE-BRU").status_code == 404


def test_the_admin_list_offers_managers_the_evidence_page_and_each_archive(
    client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    client.force_login(manager_be)
    listed = client.get("/admin/donations/evidencearchive/")
    assert listed.status_code == 200
    page = listed.content.decode()
    assert 'href="/en/evidence/"' in page and "Build an archive for an auditor" in page
    assert f'href="/en/evidence/{archive.pk}/download/"' in page


def test_the_schema_documents_the_evidence_api_with_its_zip_and_refusals():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    create = paths["/api/v1/evidence-archives/"]["post"]
    assert set(create["responses"]) >= {"202", "400", "404"}
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("EvidenceArchiveCreate")
    poll = paths["/api/v1/evidence-archives/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert poll["schema"]["$ref"].endswith("/EvidenceArchive")
    download = paths["/api/v1/evidence-archives/{id}/download/"]["get"]["responses"]
    assert download["200"]["content"]["application/zip"]["schema"] == {"type": "string", "format": "binary"}
    assert {"404", "409"} <= set(download)


def test_an_archive_whose_file_is_gone_says_so_instead_of_failing(
    client, token_client, hubs, manager_be, evidence, django_capture_on_commit_callbacks
):
    from common.storage import private_storage

    with django_capture_on_commit_callbacks(execute=True):
        archive = _build(client, manager_be, hubs["BE-BRU"])
    archive.refresh_from_db()
    private_storage().delete(archive.file_name)
    assert client.get(f"/en/evidence/{archive.pk}/download/").status_code == 404
    answer = token_client(manager_be).get(f"{API}{archive.pk}/download/")
    assert answer.status_code == 409
    assert answer.json()["detail"] == "The archive's file is no longer kept: ask for a new archive of the same range."
