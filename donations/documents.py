"""PDF documents for donors: sanitisation and recycling certificates, and the asset report (reportlab).

A certificate is drawn from its snapshot only (``Certificate.rows``), never from the live records, and with
reportlab's invariant mode: the same certificate in the same language gives the same bytes, however the devices
change afterwards.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Image, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from refurbishing.models import Device, MediaType, SanitisationRecord
from refurbishing.recycling.streams import vendor_certificates_described

from .models import Certificate, Donation, EResourceCommitment

STYLES = getSampleStyleSheet()
SMALL = STYLES["BodyText"].clone("small", fontSize=7.5, leading=9)
BODY = STYLES["BodyText"]
TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
)


def text_cell(text: Any, style=SMALL) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def document_date(value: str | datetime | None, fmt: str = "DATE_FORMAT") -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return ""
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, fmt)


def qr_png(url: str) -> bytes:
    """The URL as a QR code image (PNG), large enough to scan from a printed page."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def verification_block(url: str, sentence: str) -> Table:
    """The QR code of ``url`` beside a sentence telling the reader where to check the document is genuine."""
    qr = Image(io.BytesIO(qr_png(url)), width=32 * mm, height=32 * mm)
    block = Table([[qr, text_cell(sentence, BODY)]], colWidths=[36 * mm, None], hAlign="LEFT")
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return block


def pdf_document(story: list, *, title: str, pagesize=A4) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        title=title,
        author="Close the Gap",
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        invariant=1,
    )
    document.build(story)
    return buffer.getvalue()


def facts_table(pairs: Sequence[tuple[str, str]]) -> Table:
    table = Table(
        [[text_cell(label, BODY), text_cell(value, BODY)] for label, value in pairs],
        colWidths=[55 * mm, None],
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _media(row: dict[str, Any]) -> str:
    """The wiped medium: a drive's type, model and serial, or the device's storage as a whole."""
    if not row.get("media_type") and not row.get("media_serial"):
        return _("storage media of the device")
    parts = [_choice_label(MediaType, row.get("media_type") or ""), row.get("media_model") or ""]
    if row.get("media_serial"):
        parts.append(_("serial %(serial)s") % {"serial": row["media_serial"]})
    return ", ".join(part for part in parts if part)


def _choice_label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _sanitisation_table(rows: list[dict[str, Any]]) -> LongTable:
    header = [
        _("Manufacturer"),
        pgettext("device model", "Model"),
        _("Serial number"),
        _("Media type"),
        _("Method"),
        _("Technique"),
        _("Tool and version"),
        _("Verification"),
        _("Operator"),
        _("Date"),
    ]
    data = [[text_cell(h) for h in header]]
    for row in rows:
        data.append(
            [
                text_cell(row["manufacturer"]),
                text_cell(row["model"]),
                text_cell(row["serial_number"] or row.get("asset_tag") or "—"),
                text_cell(_media(row)),
                text_cell(_choice_label(SanitisationRecord.Method, row["method"])),
                text_cell(row["technique"]),
                text_cell(f"{row['tool']} {row.get('tool_version', '')}".strip()),
                text_cell(_verification_cell(row)),
                text_cell(row["operator"]),
                text_cell(document_date(row["completed_at"])),
            ]
        )
    widths = [22, 26, 26, 24, 30, 40, 30, 26, 26, 22]
    table = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _verification_cell(row: dict[str, Any]) -> str:
    verification = _choice_label(SanitisationRecord.Verification, row["verification"])
    if row.get("re_verified_by"):
        # Picked by the lot's wipe verification sample and re-verified by a second person.
        return _("%(verification)s; re-verified by %(person)s (sample)") % {
            "verification": verification,
            "person": row["re_verified_by"],
        }
    return verification


def _wipe_sample_fact(rows: list[dict[str, Any]]) -> str | None:
    """The lot's wipe verification sample as the certificate states it, from the rows' snapshot (None before
    sampling existed, or for a donation with nothing wiped)."""
    sample = next((row["wipe_sample"] for row in rows if row.get("wipe_sample")), None)
    if sample is None:
        return None
    return _(
        "passed on %(date)s: %(picked)s of %(population)s wiped media picked at random (round %(round)s, seed "
        "%(seed)s) and re-verified by a person other than the one who wiped them"
    ) % {
        "date": document_date(sample.get("decided_at")),
        "picked": number_format(sample.get("picked", 0)),
        "population": number_format(sample.get("population", 0)),
        "round": sample.get("round"),
        "seed": sample.get("seed"),
    }


def _recycling_table(rows: list[dict[str, Any]]) -> LongTable:
    header = [
        _("Category"),
        _("Manufacturer"),
        pgettext("device model", "Model"),
        _("Serial number"),
        _("Weight (kg)"),
        _("Date"),
        _("Recycling batch"),
    ]
    data = [[text_cell(h) for h in header]]
    for row in rows:
        weight = number_format(row["weight_kg"], decimal_pos=2) if row.get("weight_kg") else "—"
        data.append(
            [
                text_cell(_choice_label(Device.Category, row["category"])),
                text_cell(row["manufacturer"]),
                text_cell(row["model"]),
                text_cell(row["serial_number"] or row.get("asset_tag") or "—"),
                text_cell(weight),
                text_cell(document_date(row.get("recycled_at"))),
                # Certificates issued before batches existed have no such key.
                text_cell(_batch_cell(row)),
            ]
        )
    widths = [32, 40, 50, 45, 25, 30, 40]
    table = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def _batch_cell(row: dict[str, Any]) -> str:
    reference = row.get("batch_reference") or "—"
    if row.get("data_destroyed_by_recycler"):
        return _("%(batch)s; data destroyed by the recycler") % {"batch": reference}
    return reference


def _recyclers_table(rows: list[dict[str, Any]]) -> LongTable | None:
    """Each batch of the rows with its downstream vendor and the vendor's certificates that covered it at dispatch."""
    batches: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("batch_reference"):
            batches.setdefault(row["batch_reference"], row)
    if not batches:
        return None
    data = [
        [text_cell(_("Recycling batch")), text_cell(_("Recycler")), text_cell(_("Recycler's certificates at dispatch"))]
    ]
    for reference, row in batches.items():
        certificates = vendor_certificates_described(row.get("recycler_certificates") or [])
        data.append(
            [text_cell(reference), text_cell(row.get("recycler") or "—"), text_cell("; ".join(certificates) or "—")]
        )
    table = LongTable(data, colWidths=[40 * mm, 60 * mm, 162 * mm], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    return table


def certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """The certificate as a PDF, drawn from its snapshot, with a QR code of ``verify_url``."""
    donation = certificate.donation
    sanitisation = certificate.kind == Certificate.Kind.SANITISATION
    title = _("Data sanitisation certificate") if sanitisation else _("Recycling certificate")
    facts = [
        (_("Certificate number"), certificate.number),
        (_("Issued on"), document_date(certificate.issued_at)),
        (_("Donor"), certificate.donor_name),
        (_("Donation"), donation.reference),
        (_("Devices"), number_format(certificate.device_count)),
    ]
    if certificate.supersedes_id:
        facts.append((_("Supersedes"), f"{certificate.supersedes.number}: {certificate.reason}"))
    recyclers = None
    if sanitisation:
        statement = _(
            "Close the Gap certifies that the storage media of the devices below were sanitised following "
            "NIST SP 800-88 (Guidelines for Media Sanitization), with the method, technique, tool and verification "
            "shown, by the operator named, at the hub that received them."
        )
        table = _sanitisation_table(certificate.rows)
        sampled = _wipe_sample_fact(certificate.rows)
        if sampled:
            facts.append((_("Wipe verification sample"), sampled))
    else:
        total = sum(float(row["weight_kg"]) for row in certificate.rows if row.get("weight_kg"))
        facts.append((_("Total weight (kg)"), number_format(total, decimal_pos=2)))
        if any(row.get("data_destroyed_by_recycler") for row in certificate.rows):
            statement = _(
                "Close the Gap certifies that the devices below, which could not be reused, were handed over to a "
                "responsible e-waste recycler, with the weight shown, after their data was wiped or, where the table "
                "says so, to a recycler certified to destroy their data."
            )
        else:
            statement = _(
                "Close the Gap certifies that the devices below, which could not be reused, were handed over to a "
                "responsible e-waste recycler, with the weight shown, after their data was wiped."
            )
        table = _recycling_table(certificate.rows)
        recyclers = _recyclers_table(certificate.rows)
    verify = verification_block(
        verify_url, _("Check that this certificate is genuine at %(url)s") % {"url": verify_url}
    )
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        facts_table(facts),
        Spacer(1, 4 * mm),
        text_cell(statement, BODY),
        Spacer(1, 4 * mm),
        table if certificate.rows else text_cell(_("This donation had no storage media to wipe."), BODY),
    ]
    if recyclers is not None:
        story += [Spacer(1, 4 * mm), recyclers]
    story += [Spacer(1, 6 * mm), verify]
    return pdf_document(story, title=f"{title} {certificate.number}", pagesize=landscape(A4))


def asset_report_pdf(*, donation: Donation, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The donation's asset report: every device with its grade, outcome and date."""
    title = _("Asset report for donation %(reference)s") % {"reference": donation.reference}
    facts = [
        (_("Donor"), donation.donor.legal_name),
        (_("Receiving hub"), donation.hub.name),
        (_("Pledged"), document_date(donation.pledged_at)),
        (_("Report date"), document_date(timezone.now())),
    ]
    data = [[text_cell(h) for h in header]]
    for row in rows:
        data.append([text_cell(document_date(v) if isinstance(v, datetime) else v) for v in row])
    # Columns share the landscape page's width (273 mm between the margins), the model and serial widest.
    widths = [23, 24, 34, 30, 24, 12, 22, 26, 22, 14, 16, 26][: len(header)]
    table = LongTable(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    story = [Paragraph(escape(title), STYLES["Title"]), facts_table(facts), Spacer(1, 4 * mm), table]
    return pdf_document(story, title=title, pagesize=landscape(A4))


def _vendor_cell(row: dict[str, Any]) -> str:
    return "; ".join([row["vendor"], *vendor_certificates_described(row.get("vendor_certificates") or [])])


def e_resource_certificate_pdf(
    commitment: EResourceCommitment, *, rows: list[dict[str, Any]], verify_url: str
) -> bytes:
    """A covered commitment's e-Resource certificate, with the batches whose kilograms covered it and a QR code of
    ``verify_url``. Drawn from the allocation rows, which never change once written."""
    title = _("e-Resource certificate")
    facts = [
        (_("Certificate number"), commitment.certificate_number),
        (_("Issued on"), document_date(commitment.covered_at)),
        (_("Donor"), commitment.donor.legal_name),
        (_("Commitment made on"), document_date(commitment.created_at)),
        (_("E-waste recycled in Africa (kg)"), number_format(commitment.target_kg, decimal_pos=2)),
    ]
    if commitment.devices:
        facts.append((_("Devices compensated"), number_format(commitment.devices)))
    statement = _(
        "Close the Gap certifies that, on behalf of the donor named above, the kilograms of e-waste shown below were "
        "handed over at its hubs in Africa to downstream recyclers whose certificates covered every waste stream of "
        "the batch on the day it was dispatched. Each kilogram is allocated to one donor only."
    )
    header = [_("Recycling batch"), _("Hub"), _("Country"), _("Recycler"), _("Dispatched"), _("Kilograms")]
    data = [[text_cell(h) for h in header]]
    for row in rows:
        data.append(
            [
                text_cell(row["batch_reference"]),
                text_cell(row["hub"]),
                text_cell(row["country"]),
                text_cell(
                    "; ".join([row["vendor"], *vendor_certificates_described(row.get("vendor_certificates") or [])])
                ),
                text_cell(document_date(row["dispatched_at"])),
                text_cell(number_format(row["kg"], decimal_pos=2)),
            ]
        )
    table = LongTable(data, colWidths=[w * mm for w in (30, 34, 16, 64, 22, 20)], repeatRows=1)
    table.setStyle(TABLE_STYLE)
    verify = verification_block(
        verify_url, _("Check that this certificate is genuine at %(url)s") % {"url": verify_url}
    )
    story = [
        Paragraph(escape(title), STYLES["Title"]),
        facts_table(facts),
        Spacer(1, 4 * mm),
        text_cell(statement, BODY),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        verify,
    ]
    return pdf_document(story, title=f"{title} {commitment.certificate_number}")
