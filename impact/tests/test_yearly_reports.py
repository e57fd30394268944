"""The donor's yearly report: its figures against an independent recount, frozen at issue, superseded by a reissue,
the calendar year's time zone, and its documents in three languages."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from donations.factories import DonorFactory
from impact.models import YearlyReport, YearlyReportLine
from impact.reports import YearlyReportError, yearly_report_current_year, yearly_report_issue
from impact.reports.documents import yearly_report_pdf, yearly_report_xlsx
from refurbishing.factories import device_through
from refurbishing.services import moves_dated

from .yearly_data import donor_year, hub_manager, recount, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def donor(db):
    return DonorFactory(legal_name="Acme NV")


@pytest.fixture
def year():
    return yearly_report_current_year()


def _pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _xlsx(report) -> dict[str, list[tuple]]:
    buffer = io.BytesIO()
    yearly_report_xlsx(report, target=buffer, verify_url=f"https://example.org/verify/{report.number}/")
    workbook = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def test_the_report_reconciles_with_a_recount_of_a_few_hundred_devices(donor, hubs, year):
    donor_year(donor, hubs, year=year)
    report = yearly_report_issue(donor=donor, year=year, actor=None)
    expected = recount(donor, year)
    f = report.figures

    # The figures as a person reads them, from the data built: 127 reused, 75 recycled, 20 missing, 28 waiting.
    assert (f["reused"], f["recycled"], f["missing"], f["disposed"]) == (127, 75, 20, 0)
    assert f["received"] == 30 + 25 + 60 + 75 + 28  # the 12 received the year before are not received this year
    assert f["received_still_in_preparation"] == 28
    assert f["people_reached"] == 660 + 90 + 25 + 40
    assert f["reused_weight_unknown"] == 30
    assert Decimal(f["recycled_kg"]) == Decimal("507.30")
    assert f["lines"] == 30 + 25 + 60 + 12 + 75 + 20 + 28

    # The same figures, counted another way from the devices and their events.
    for key, value in expected["figures"].items():
        assert f[key] == value, key
    for key, value in expected["kg"].items():
        assert Decimal(f[key]) == value, key
    assert {row["country"]: row["devices"] for row in f["reused_by_country"]} == expected["by_country"]
    assert {row["vendor"]: Decimal(row["kg"]) for row in f["recycled_by_vendor"]} == expected["by_vendor"]

    # And every figure is exactly the sum of the report's own lines.
    lines = YearlyReportLine.objects.filter(report=report)
    assert lines.count() == f["lines"]
    # (Summed here in Python, exactly: SQLite sums decimals as floats.)
    reused = list(lines.filter(outcome="reused"))
    assert len(reused) == f["reused"]
    assert sum(line.people for line in reused) == f["people_reached"]
    assert sum(line.weight_kg or 0 for line in reused) == Decimal(f["prepared_for_reuse_kg"])
    assert sum(line.co2e_kg for line in lines) == Decimal(f["co2e_avoided_kg"]) > 0
    assert sum(row["devices"] for row in f["reused_by_project_kind"]) == f["reused"]
    assert sum(Decimal(row["kg"]) for row in f["recycled_by_vendor"]) == Decimal(f["recycled_kg"])
    streams = {row["stream"]: row["devices"] for row in f["recycled_by_stream"]}
    assert streams["crt_glass"] == 35 and streams["batteries"] == 40 and streams["metals"] == 75

    # The spreadsheet lists every line, once.
    sheets = _xlsx(report)
    devices = sheets["Devices"]
    assert len(devices) - 1 == f["lines"]
    assert len({row[0] for row in devices[1:]}) == f["lines"]
    assert sum(1 for row in devices[1:] if row[10] == "recycled") == f["recycled"]


def test_an_issued_report_never_changes_and_a_reissue_supersedes_it(donor, hubs, year):
    manager = hub_manager(hubs["KE-MBA"], "manager-ke-mba")
    for device in register(donor, hubs["KE-MBA"], 3):
        device_through(device, "receive", actor=manager)
    first = yearly_report_issue(donor=donor, year=year, actor=None)
    assert first.figures["received"] == 3
    with pytest.raises(YearlyReportError, match="already issued"):
        yearly_report_issue(donor=donor, year=year, actor=None)
    for device in register(donor, hubs["KE-MBA"], 2):
        device_through(device, "receive", actor=manager)

    second = yearly_report_issue(donor=donor, year=year, actor=None, reason="Two devices were found in the depot.")
    first.refresh_from_db()
    assert second.supersedes == first and second.number != first.number
    assert (first.figures["received"], second.figures["received"]) == (3, 5)
    assert first.superseded_by == second
    assert YearlyReportLine.objects.filter(report=first).count() == 3

    # The database refuses to change an issued report or its lines.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        YearlyReport.objects.filter(pk=first.pk).update(figures={})
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        YearlyReportLine.objects.filter(report=first).update(people=99)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        line = YearlyReportLine.objects.filter(report=first).first()
        line.pk = None
        line.device_id = second.lines.exclude(device_id__in=first.lines.values("device_id")).first().device_id
        line.save()


def test_a_year_not_begun_is_refused(donor, year):
    with pytest.raises(YearlyReportError, match="Choose a year"):
        yearly_report_issue(donor=donor, year=year + 1, actor=None)
    assert not YearlyReport.objects.exists()


def test_the_calendar_year_is_counted_in_the_reports_time_zone(donor, hubs, year, settings):
    """31 December 23:59:30 UTC belongs to that year by default (UTC), although it is 1 January in Nairobi."""
    manager = hub_manager(hubs["KE-NBO"], "manager-ke-nbo")
    new_year = datetime(year, 1, 1, tzinfo=UTC)
    with moves_dated(new_year - timedelta(minutes=2)):
        (device,) = register(donor, hubs["KE-NBO"], 1)
    with moves_dated(new_year - timedelta(seconds=30)):
        device_through(device, "receive", actor=manager)

    last_year = yearly_report_issue(donor=donor, year=year - 1, actor=None)
    this_year = yearly_report_issue(donor=donor, year=year, actor=None)
    assert (last_year.time_zone, last_year.figures["received"], this_year.figures["received"]) == ("UTC", 1, 0)

    settings.YEARLY_REPORT_TIME_ZONE = "Africa/Nairobi"
    nairobi = yearly_report_issue(donor=donor, year=year, actor=None, reason="Counted in Nairobi time.")
    assert (nairobi.time_zone, nairobi.figures["received"]) == ("Africa/Nairobi", 1)


@pytest.mark.parametrize(
    ("language", "pdf_words", "header"),
    [
        ("en", ["Sustainability report", "Disposed of", "Prepared for reuse"], "Weight basis"),
        ("fr", ["Rapport de durabilité", "Éliminés", "Préparés pour le réemploi"], "Origine du poids"),
        ("nl", ["Duurzaamheidsverslag", "Verwijderd", "Voorbereid voor hergebruik"], "Herkomst van het gewicht"),
    ],
)
def test_the_documents_are_in_the_readers_language(donor, hubs, year, language, pdf_words, header):
    manager = hub_manager(hubs["KE-MBA"], "manager-ke-mba")
    for device in register(donor, hubs["KE-MBA"], 2):
        device_through(device, "receive", actor=manager)
    report = yearly_report_issue(donor=donor, year=year, actor=None)
    with translation.override(language):
        text = _pdf_text(yearly_report_pdf(report, verify_url=f"https://example.org/verify/{report.number}/"))
        sheets = _xlsx(report)
    for words in pdf_words:
        assert words in text
    assert report.number in text
    devices = next(rows for title, rows in sheets.items() if title != list(sheets)[0])
    assert header in devices[0]
    assert len(devices) == 3
