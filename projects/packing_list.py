"""The packing list of a shipment, as a PDF: who it goes to, how, and every device with its serial."""

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import Shipment


def packing_list_pdf(*, shipment: Shipment) -> bytes:
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_("Packing list, shipment %(id)s") % {"id": shipment.pk},
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    )
    project = shipment.project
    devices = list(shipment.devices.order_by("id"))
    story = [
        Paragraph(_("Packing list, shipment %(id)s") % {"id": shipment.pk}, styles["Title"]),
        Paragraph(
            _("To: %(project)s, %(organisation)s (%(place)s %(country)s)")
            % {
                "project": project.name,
                "organisation": project.organisation,
                "place": project.place,
                "country": project.country,
            },
            styles["Normal"],
        ),
        Paragraph(_("From: %(hub)s") % {"hub": shipment.hub}, styles["Normal"]),
        Paragraph(
            _("Carrier: %(carrier)s; tracking reference: %(tracking)s")
            % {"carrier": shipment.carrier or "-", "tracking": shipment.tracking_reference or "-"},
            styles["Normal"],
        ),
        Paragraph(_("Printed %(date)s") % {"date": timezone.localdate().isoformat()}, styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    rows = [[_("#"), _("Device"), _("Serial number"), _("Asset tag"), _("Grade")]]
    for index, device in enumerate(devices, start=1):
        rows.append(
            [
                str(index),
                f"{device.get_category_display()} {device.manufacturer} {device.model}".strip(),
                device.serial_number or "-",
                device.asset_tag or "-",
                device.grade or "-",
            ]
        )
    table = Table(rows, repeatRows=1, colWidths=[10 * mm, 80 * mm, 45 * mm, 30 * mm, 15 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(_("%(count)s devices in all.") % {"count": len(devices)}, styles["Normal"]))
    document.build(story)
    return buffer.getvalue()
