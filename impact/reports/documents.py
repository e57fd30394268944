"""A yearly report as PDF (the figures, with a QR code to its verification page) and as XLSX (the figures, and every
device behind them), in the active language. Both are drawn from the sealed report only: its figures and its lines,
never the live records, so the same report reads the same every time.

The XLSX is written in openpyxl's write-only mode to a file the caller gives (a temporary file for a download), the
lines streamed from the database a chunk at a time: a report of 100,000 devices is never held in memory.
"""

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_countries import countries
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, Spacer

from donations.documents import (
    BODY,
    STYLES,
    TABLE_STYLE,
    document_date,
    facts_table,
    pdf_document,
    text_cell,
    verification_block,
)
from donations.exports import spreadsheet_safe
from projects.models import Project
from refurbishing.models import Device, WasteStream, WeeeCategory

from ..models import EmissionFactor, YearlyReport, YearlyReportLine
from .selectors import yearly_report_bounds, yearly_report_lines

CHUNK_SIZE = 5000


def _kg(value: Any) -> str:
    return number_format(Decimal(str(value or 0)), decimal_pos=2, use_l10n=True, force_grouping=True)


def _count(value: Any) -> str:
    return number_format(int(value or 0), use_l10n=True, force_grouping=True)


def _co2e(value: Any) -> str:
    return number_format(Decimal(str(value or 0)), decimal_pos=0, use_l10n=True, force_grouping=True)


def _country(code: str) -> str:
    return str(countries.name(code)) or code if code else _("not recorded")


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _year_covered(report: YearlyReport) -> str:
    zone = ZoneInfo(report.time_zone)
    start, end = yearly_report_bounds(report.year, zone)
    covered = _("%(year)s: from 1 January 00:00 to 31 December 24:00, %(zone)s time") % {
        "year": report.year,
        "zone": report.time_zone,
    }
    if report.issued_at < end:
        covered += " " + _("(issued before the year ended: it counts up to %(date)s)") % {
            "date": document_date(report.issued_at, "DATETIME_FORMAT")
        }
    return covered


def yearly_report_rows(report: YearlyReport) -> list[tuple[str, str, str, str]]:
    """The report's headline figures as (figure, devices, kilograms, what it counts), in the active language."""
    f = report.figures
    return [
        (
            _("Devices received"),
            _count(f["received"]),
            _kg(f["received_kg"]),
            _("Devices that arrived at a hub in the year. Weight unknown for %(count)s.")
            % {"count": _count(f["received_weight_unknown"])},
        ),
        (
            _("Prepared for reuse and reused"),
            _count(f["reused"]),
            _kg(f["prepared_for_reuse_kg"]),
            _(
                "Devices wiped, tested and refurbished, then delivered to a beneficiary project in the year. Weight "
                "unknown for %(count)s (counted as 0 kg, never guessed)."
            )
            % {"count": _count(f["reused_weight_unknown"])},
        ),
        (
            _("People reached"),
            _count(f["people_reached"]),
            "",
            _("As the projects confirmed at delivery, with later corrections."),
        ),
        (
            _("Recycled"),
            _count(f["recycled"]),
            _kg(f["recycled_kg"]),
            _(
                "Devices beyond reuse handed over in the year to a downstream recycler whose certificates covered "
                "their waste streams; the kilograms the recycler weighed."
            ),
        ),
        (
            _("Disposed of"),
            _count(f["disposed"]),
            _kg(f["disposed_kg"]),
            _(
                "Devices sent to landfill or incineration without recovering their materials. The platform records "
                "no such outcome: every device that cannot be reused goes to a recycler, so this is 0."
            ),
        ),
        (
            _("Missing"),
            _count(f["missing"]),
            "",
            _("Devices marked missing in the year: pledged but never arrived, or lost between two hubs."),
        ),
        (
            _("Received and still in preparation"),
            _count(f["received_still_in_preparation"]),
            "",
            _("Received in the year, and neither reused, recycled nor missing by its end (or by the issue date)."),
        ),
    ]


def _co2e_rows(report: YearlyReport) -> list[tuple[str, str]]:
    f = report.figures
    return [
        (_("CO2e avoided in total (kg, estimate)"), _co2e(f["co2e_avoided_kg"])),
        (_("CO2e avoided by reuse (kg)"), _co2e(f["co2e_avoided_by_reuse_kg"])),
        (_("CO2e avoided by recycling (kg)"), _co2e(f["co2e_avoided_by_recycling_kg"])),
    ]


def _table(header: list[str], rows: list[list[str]], widths: list[float]) -> LongTable:
    data = [[text_cell(h) for h in header]] + [[text_cell(value) for value in row] for row in rows]
    table = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _heading(text: str) -> Paragraph:
    return Paragraph(escape(text), STYLES["Heading2"])


def breakdowns(report: YearlyReport) -> dict[str, list[list[str]]]:
    """The report's breakdowns as table rows in the active language (PDF and portal)."""
    f = report.figures
    kinds = _labels(Project.Kind.choices)
    categories = _labels(Device.Category.choices)
    streams = _labels(WasteStream.choices)
    return {
        "by_country": [
            [_country(row["country"]), _count(row["devices"]), _count(row["people"]), _kg(row["kg"])]
            for row in f["reused_by_country"]
        ],
        "by_project_kind": [
            [
                kinds.get(row["project_kind"], row["project_kind"] or _("not recorded")),
                _count(row["devices"]),
                _count(row["people"]),
                _kg(row["kg"]),
            ]
            for row in f["reused_by_project_kind"]
        ],
        "by_category": [
            [
                categories.get(row["category"], row["category"]),
                _count(row["devices"]),
                _kg(row["kg"]),
                _co2e(row["co2e"]),
            ]
            for row in f["reused_by_category"]
        ],
        "by_vendor": [
            [row["vendor"] or _("not recorded"), _count(row["devices"]), _kg(row["kg"])]
            for row in f["recycled_by_vendor"]
        ],
        "by_stream": [
            [streams.get(row["stream"], row["stream"]), _count(row["devices"]), _kg(row["kg"])]
            for row in f["recycled_by_stream"]
        ],
    }


def _factor_rows(report: YearlyReport) -> list[list[str]]:
    rows = []
    for factor in report.factors:
        value = number_format(Decimal(factor["kg_co2e"]), decimal_pos=2, use_l10n=True)
        if factor["applies_to"] == EmissionFactor.EWASTE:
            per = _("%(value)s kg CO2e per kg recycled") % {"value": value}
        else:
            per = _("%(value)s kg CO2e per device reused") % {"value": value}
        rows.append([factor["label"], per, factor["source"]])
    return rows


def _genuine(url: str) -> str:
    return _("Check that this report is genuine and current at %(url)s") % {"url": url}


def yearly_report_pdf(report: YearlyReport, *, verify_url: str) -> bytes:
    """The report as a PDF: its figures, breakdowns, definitions and factors, with a QR code of ``verify_url``."""
    title = _("Sustainability report %(year)s") % {"year": report.year}
    facts = [
        (_("Report number"), report.number),
        (_("Issued on"), document_date(report.issued_at)),
        (_("Donor"), report.donor_name),
        (_("Calendar year"), _year_covered(report)),
        (_("Devices behind the figures"), _count(report.figures["lines"])),
    ]
    if report.supersedes_id:
        facts.append((_("Supersedes"), f"{report.supersedes.number}: {report.reason}"))
    statement = _(
        "Close the Gap reports what became of the devices the donor named above gave, in the calendar year shown, from "
        "the chain of custody its hubs record for every device. Every figure is the sum of the devices listed in the "
        "spreadsheet issued with this report under the same number."
    )
    parts = breakdowns(report)
    devices, people, kilograms = _("Devices"), _("People reached"), _("Kilograms")
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        facts_table(facts),
        Spacer(1, 3 * mm),
        text_cell(statement, BODY),
        Spacer(1, 3 * mm),
        _table(
            [_("Figure"), devices, kilograms, _("What it counts")],
            [list(r) for r in yearly_report_rows(report)],
            [40, 20, 24, 102],
        ),
        Spacer(1, 3 * mm),
        _table([_("Estimate"), _("kg CO2e")], [list(r) for r in _co2e_rows(report)], [120, 66]),
    ]
    sections = [
        (_("Reused, by country"), [_("Country"), devices, people, kilograms], parts["by_country"], [80, 30, 38, 38]),
        (
            _("Reused, by project kind"),
            [_("Project kind"), devices, people, kilograms],
            parts["by_project_kind"],
            [80, 30, 38, 38],
        ),
        (
            _("Reused, by device category, with the CO2e avoided"),
            [_("Category"), devices, kilograms, _("kg CO2e")],
            parts["by_category"],
            [80, 30, 38, 38],
        ),
        (
            _("Recycled, by downstream vendor"),
            [_("Downstream vendor"), devices, kilograms],
            parts["by_vendor"],
            [110, 38, 38],
        ),
        (
            _("Recycled, by waste stream (a device holding several streams counts in each)"),
            [_("Waste stream"), devices, kilograms],
            parts["by_stream"],
            [110, 38, 38],
        ),
    ]
    for heading, header, rows, widths in sections:
        if rows:
            story += [_heading(heading), _table(header, rows, widths)]
    story += [
        _heading(_("Emission factors used")),
        text_cell(
            _(
                "The same factors as the public impact page, as they read when the report was issued: per device "
                "reused, the manufacturing emissions of a new device of its category avoided; per kilogram recycled, "
                "the emissions avoided by responsible recycling. Categories without a factor add nothing."
            ),
            BODY,
        ),
        _table([_("Factor"), _("Value"), _("Source")], _factor_rows(report), [60, 56, 70]),
        Spacer(1, 5 * mm),
        verification_block(
            verify_url, _("Check that this report is genuine and current at %(url)s") % {"url": verify_url}
        ),
    ]
    return pdf_document(story, title=f"{title} {report.number}")


def _naive(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return timezone.localtime(value, zone).replace(tzinfo=None) if value is not None else None


LINE_FIELDS = (
    "device_id",
    "donation_reference",
    "hub_code",
    "category",
    "weee_category",
    "manufacturer",
    "model",
    "serial_number",
    "asset_tag",
    "received_at",
    "outcome",
    "outcome_at",
    "weight_kg",
    "weight_basis",
    "weight_source",
    "country",
    "project_kind",
    "people",
    "batch_reference",
    "vendor",
    "streams",
    "co2e_kg",
)


def yearly_report_line_header() -> list[str]:
    return [
        _("Device"),
        _("Donation"),
        _("Hub"),
        _("Category"),
        _("WEEE category"),
        _("Manufacturer"),
        pgettext("device model", "Model"),
        _("Serial number"),
        _("Asset tag"),
        _("Received in the year"),
        _("Outcome in the year"),
        _("Outcome date"),
        _("Weight (kg)"),
        _("Weight basis"),
        _("Weight source"),
        _("Country reached"),
        _("Project kind"),
        _("People reached"),
        _("Recycling batch"),
        _("Downstream vendor"),
        _("Waste streams"),
        _("kg CO2e avoided"),
    ]


def yearly_report_line_rows(report: YearlyReport) -> Iterator[list[Any]]:
    """Every line of the report as spreadsheet values, in the active language, streamed a chunk at a time."""
    zone = ZoneInfo(report.time_zone)
    categories = _labels(Device.Category.choices)
    weee = {value: str(label) for value, label in WeeeCategory.choices}
    outcomes = _labels(YearlyReportLine.Outcome.choices)
    bases = _labels(YearlyReportLine.WeightBasis.choices)
    kinds = _labels(Project.Kind.choices)
    stream_names = _labels(WasteStream.choices)
    country_names: dict[str, str] = {}
    rows = yearly_report_lines(report=report).values_list(*LINE_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    for (
        device_id,
        donation,
        hub,
        category,
        weee_category,
        maker,
        model,
        serial,
        tag,
        received_at,
        outcome,
        outcome_at,
        weight,
        basis,
        source,
        country,
        kind,
        people,
        batch,
        vendor,
        streams,
        co2e,
    ) in rows:
        if country not in country_names:
            country_names[country] = str(countries.name(country)) or country if country else ""
        yield [
            value if value != "" else None  # an empty cell is not written at all: a third of the file's cells
            for value in (
                device_id,
                spreadsheet_safe(donation),
                hub,
                categories.get(category, category),
                weee.get(weee_category, "") if weee_category else "",
                spreadsheet_safe(maker),
                spreadsheet_safe(model),
                spreadsheet_safe(serial),
                spreadsheet_safe(tag),
                _naive(received_at, zone),
                outcomes.get(outcome, outcome),
                _naive(outcome_at, zone),
                weight,
                bases.get(basis, basis) if weight is not None else pgettext("weight", "unknown"),
                spreadsheet_safe(source),
                country_names[country],
                kinds.get(kind, kind),
                people if outcome == YearlyReportLine.Outcome.REUSED else None,
                spreadsheet_safe(batch),
                spreadsheet_safe(vendor),
                ", ".join(stream_names.get(code, code) for code in streams.split()),
                co2e,
            )
        ]


def yearly_report_xlsx(report: YearlyReport, *, target: IO[bytes], verify_url: str) -> None:
    """Write the report as XLSX to ``target``: a summary sheet with every figure, and a sheet listing every device
    behind them (openpyxl write-only: each row goes to the file as it is appended)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def heading(sheet, values: list[str]) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary = workbook.create_sheet(title=_("Summary")[:31])
    summary.append([_("Sustainability report %(year)s") % {"year": report.year}])
    summary.append([_("Report number"), report.number])
    summary.append([_("Donor"), spreadsheet_safe(report.donor_name)])
    summary.append([_("Calendar year"), _year_covered(report)])
    summary.append([_("Issued on"), _naive(report.issued_at, ZoneInfo(report.time_zone))])
    summary.append([_genuine(verify_url)])
    if report.supersedes_id:
        summary.append([_("Supersedes"), report.supersedes.number, spreadsheet_safe(report.reason)])
    summary.append([])
    f = report.figures
    heading(summary, [_("Figure"), _("Devices"), _("Kilograms"), _("What it counts")])
    amounts = {
        _("Devices received"): (f["received"], f["received_kg"]),
        _("Prepared for reuse and reused"): (f["reused"], f["prepared_for_reuse_kg"]),
        _("People reached"): (f["people_reached"], None),
        _("Recycled"): (f["recycled"], f["recycled_kg"]),
        _("Disposed of"): (f["disposed"], f["disposed_kg"]),
        _("Missing"): (f["missing"], None),
        _("Received and still in preparation"): (f["received_still_in_preparation"], None),
    }
    for label, _devices, _kilograms, meaning in yearly_report_rows(report):
        count, kg = amounts[label]
        summary.append([label, count, Decimal(kg) if kg is not None else None, meaning])
    summary.append([])
    heading(summary, [_("Estimate"), _("kg CO2e")])
    summary.append([_("CO2e avoided in total (kg, estimate)"), Decimal(f["co2e_avoided_kg"])])
    summary.append([_("CO2e avoided by reuse (kg)"), Decimal(f["co2e_avoided_by_reuse_kg"])])
    summary.append([_("CO2e avoided by recycling (kg)"), Decimal(f["co2e_avoided_by_recycling_kg"])])
    summary.append([])
    heading(summary, [_("Factor"), _("Value"), _("Source")])
    for factor in report.factors:
        summary.append([factor["label"], Decimal(factor["kg_co2e"]), factor["source"]])
    lines = workbook.create_sheet(title=_("Devices")[:31])
    heading(lines, yearly_report_line_header())
    for row in yearly_report_line_rows(report):
        lines.append(row)
    workbook.save(target)
