"""Device labels as a PDF: an A4 sheet of 3 x 8 labels (70 x 37 mm stock) or 62 mm continuous tape.

Each label carries a QR code of the address that opens the device on the scan station, and in text the hub
code, category, make, model, serial number and label code, so a label stays useful without a phone.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from refurbishing.models import Device

QR_BORDER_MODULES = 2  # a narrower quiet zone than the standard 4 still scans, and leaves room for the text


@dataclass(frozen=True)
class LabelLayout:
    """Where labels go: ``columns`` x ``rows`` per page of ``page_size``, each ``width`` x ``height``."""

    name: str
    page_size: tuple[float, float]
    columns: int
    rows: int
    width: float
    height: float
    left: float = 0.0
    top: float = 0.0


LAYOUTS = {
    # A common A4 stock: 24 labels of 70 x 37 mm, 3 across, 8 down, edge to edge (e.g. Avery 3474, Herma 4453).
    "a4": LabelLayout("a4", A4, columns=3, rows=8, width=70 * mm, height=37 * mm, left=0, top=0.5 * mm),
    # Continuous 62 mm tape (Brother DK-22205 and alike): one label per page, cut after each.
    "tape": LabelLayout("tape", (62 * mm, 32 * mm), columns=1, rows=1, width=62 * mm, height=32 * mm),
}


def label_lines(device: Device) -> list[str]:
    """What a label says besides its QR code, line by line (the label code last, larger)."""
    return [
        f"{device.hub.code} · {device.get_category_display()}",
        f"{device.manufacturer} {device.model}".strip(),
        f"S/N {device.serial_number}"
        if device.serial_number
        else (f"Tag {device.asset_tag}" if device.asset_tag else ""),
        device.label_code,
    ]


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _draw_qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=QR_BORDER_MODULES)]
    module = size / len(matrix)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        for column_index, dark in enumerate(row):
            if dark:
                canvas.rect(x + column_index * module, top, module, module, stroke=0, fill=1)


def _draw_label(canvas: Canvas, device: Device, url: str, *, x: float, y: float, layout: LabelLayout) -> None:
    padding = 2 * mm
    qr_size = layout.height - 2 * padding
    _draw_qr(canvas, url, x=x + padding, y=y + padding, size=qr_size)
    text_x = x + padding + qr_size + 1.5 * mm
    text_width = layout.width - (text_x - x) - padding
    hub_category, make_model, serial, code = label_lines(device)
    lines = [
        (hub_category, "Helvetica-Bold", 7.5),
        (make_model, "Helvetica", 7.5),
        (serial, "Helvetica", 7),
        (code, "Courier-Bold", 11),
    ]
    cursor = y + layout.height - padding - 7.5
    for text, font, size in lines:
        if text:
            canvas.setFont(font, size)
            canvas.drawString(text_x, cursor, _fit(text, font, size, text_width))
        cursor -= size + 3


def labels_pdf(devices: Iterable[Device], *, url_for: Callable[[Device], str], layout: str = "a4") -> bytes:
    """The labels of ``devices`` in one PDF; ``url_for`` gives the address each QR code holds."""
    chosen = LAYOUTS[layout]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=chosen.page_size)
    canvas.setTitle("Close the Gap device labels")
    per_page = chosen.columns * chosen.rows
    page_height = chosen.page_size[1]
    count = 0
    for count, device in enumerate(devices, start=1):
        slot = (count - 1) % per_page
        if slot == 0 and count > 1:
            canvas.showPage()
        column, row = slot % chosen.columns, slot // chosen.columns
        x = chosen.left + column * chosen.width
        y = page_height - chosen.top - (row + 1) * chosen.height
        _draw_label(canvas, device, url_for(device), x=x, y=y, layout=chosen)
    if count == 0:
        canvas.setFont("Helvetica", 10)
        canvas.drawString(10 * mm, page_height - 15 * mm, "No devices selected.")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
