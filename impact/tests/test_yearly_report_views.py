"""The yearly report's surfaces: the donor portal page, the downloads, the public verification page and the API,
each scoped to the donor's own organisation."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from donations.factories import DonorFactory
from hubs.factories import UserFactory
from impact.models import YearlyReport
from impact.reports import yearly_report_current_year, yearly_report_issue
from refurbishing.factories import device_through

from .yearly_data import hub_manager, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return yearly_report_current_year()


@pytest.fixture
def acme(donor_user):
    return donor_user.donors.get()


@pytest.fixture
def acme_report(acme, hubs, year):
    manager = hub_manager(hubs["KE-MBA"], "manager-ke-mba")
    for device in register(acme, hubs["KE-MBA"], 3):
        device_through(device, "receive", actor=manager)
    return yearly_report_issue(donor=acme, year=year, actor=None)


@pytest.fixture
def other_report(year):
    return yearly_report_issue(donor=DonorFactory(legal_name="Other BV"), year=year, actor=None)


def test_the_portal_lists_issues_and_reissues_reports(client, donor_user, acme, hubs, year):
    client.force_login(donor_user)
    url = reverse("impact:yearly-report-list")
    page = client.get(url)
    assert page.status_code == 200
    assert "No report issued yet." in page.content.decode()

    response = client.post(url, {"donor": acme.pk, "year": year, "reason": ""})
    assert response.status_code == 302
    first = YearlyReport.objects.get(donor=acme)
    page = client.get(url).content.decode()
    assert first.number in page and "current" in page

    # Issuing the same year again asks what was corrected, and writes nothing until it is said.
    again = client.post(url, {"donor": acme.pk, "year": year, "reason": ""})
    assert again.status_code == 400
    assert "already issued" in again.content.decode()
    assert YearlyReport.objects.filter(donor=acme).count() == 1
    client.post(url, {"donor": acme.pk, "year": year, "reason": "A weight was corrected."})
    second = YearlyReport.objects.get(donor=acme, supersedes=first)
    page = client.get(url).content.decode()
    assert f"superseded by {second.number}" in page


def test_downloads_pdf_and_xlsx(client, donor_user, acme_report):
    client.force_login(donor_user)
    pdf = client.get(reverse("impact:yearly-report-download", args=[acme_report.number, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = client.get(reverse("impact:yearly-report-download", args=[acme_report.number, "xlsx"]))
    assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)), read_only=True)
    devices = list(workbook["Devices"].iter_rows(values_only=True))
    assert len(devices) == 1 + 3


def test_another_donors_report_is_404_on_pages_and_api(client, donor_user, acme_report, other_report, token_client):
    client.force_login(donor_user)
    for extension in ("pdf", "xlsx"):
        url = reverse("impact:yearly-report-download", args=[other_report.number, extension])
        assert client.get(url).status_code == 404
    assert other_report.number not in client.get(reverse("impact:yearly-report-list")).content.decode()
    api = token_client(donor_user)
    assert api.get(f"/api/v1/yearly-reports/{other_report.number}/").status_code == 404
    listed = api.get("/api/v1/yearly-reports/").json()
    numbers = [item["number"] for item in listed.get("results", listed)]
    assert numbers == [acme_report.number]


def test_a_user_of_no_donor_gets_no_reports(client, acme_report, token_client):
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    assert client.get(reverse("impact:yearly-report-list")).status_code == 403
    assert client.get(reverse("impact:yearly-report-download", args=[acme_report.number, "pdf"])).status_code == 404
    listed = token_client(stranger).get("/api/v1/yearly-reports/").json()
    assert listed.get("results", listed) == []


def test_the_api_gives_the_reports_figures(donor_user, acme_report, token_client):
    response = token_client(donor_user).get(f"/api/v1/yearly-reports/{acme_report.number}/")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == acme_report.number and body["current"] is True and body["superseded_by"] is None
    assert body["figures"] == acme_report.figures
    assert body["figures"]["received"] == 3 and body["figures"]["disposed"] == 0
    assert {factor["applies_to"] for factor in body["factors"]} >= {"laptop", "ewaste_kg"}


def test_the_api_needs_credentials(client, acme_report):
    assert client.get("/api/v1/yearly-reports/").status_code == 401


def test_verification_says_current_then_superseded(client, acme, acme_report, year):
    url = reverse("certificate-verify", args=[acme_report.number])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "genuine and current" in text and "Acme NV" in text and str(year) in text

    newer = yearly_report_issue(donor=acme, year=year, actor=None, reason="A device was found.")
    text = client.get(url).content.decode()
    assert "superseded" in text and newer.number in text
    assert "genuine and current" in client.get(reverse("certificate-verify", args=[newer.number])).content.decode()


def test_verification_of_an_unknown_number_is_404(client, db):
    assert client.get(reverse("certificate-verify", args=["CTG-NOPE-NOPE-NOPE-NOPE"])).status_code == 404


def test_verification_in_french_and_dutch(client, acme_report):
    french = client.get(f"/fr/verify/{acme_report.number}/").content.decode()
    dutch = client.get(f"/nl/verify/{acme_report.number}/").content.decode()
    assert "Rapport de durabilité" in french
    assert "Duurzaamheidsverslag" in dutch
