"""Labels: a unique short code per device, and PDFs whose QR codes really decode to the device's scan address."""

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.urls import reverse

from refurbishing.factories import DeviceFactory
from refurbishing.models import LABEL_CODE_ALPHABET, LABEL_CODE_LENGTH
from refurbishing.scan.labels import LAYOUTS, labels_pdf
from refurbishing.services import label_codes_unused

BASE = "https://devices.closegap.example"


def _url(device):
    return f"{BASE}{reverse('scan:device', args=[device.label_code])}"


def _decoded_qr_codes(pdf: bytes) -> list[str]:
    """Render every page at print resolution and read every QR code on it, as a phone would."""
    texts = []
    document = pypdfium2.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        # zxing now and then "finds" a six-digit code in the printed text beside a symbol (a CI run read
        # '391632' once); a phone at the label reads the symbol, so only what decodes to an address counts.
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        texts += [result.text for result in results if result.text.startswith(("http://", "https://"))]
    return texts


def _page_texts(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf)]


def test_every_device_gets_a_short_unique_label_code(hubs):
    devices = DeviceFactory.create_batch(30, donation__hub=hubs["BE-BRU"])
    codes = {device.label_code for device in devices}
    assert len(codes) == 30
    for code in codes:
        assert len(code) == LABEL_CODE_LENGTH
        assert set(code) <= set(LABEL_CODE_ALPHABET)
    assert not set("01OIL5S8B2ZUV") & set(LABEL_CODE_ALPHABET)  # nothing a person could misread


def test_new_codes_avoid_codes_already_taken(hubs, monkeypatch):
    taken = DeviceFactory(donation__hub=hubs["BE-BRU"]).label_code
    draws = iter([[taken], [taken], ["KKKKKKKK"]])
    monkeypatch.setattr("refurbishing.services.label_codes_new", lambda count: next(draws))
    assert label_codes_unused(count=1) == ["KKKKKKKK"]


@pytest.mark.parametrize("layout", ["a4", "tape"])
def test_each_qr_code_decodes_to_its_devices_scan_address(hubs, layout):
    devices = [
        DeviceFactory(donation__hub=hubs["KE-MBA"], manufacturer="Lenovo", model="ThinkPad T480", serial_number="PF1X")
    ] + DeviceFactory.create_batch(4, donation__hub=hubs["KE-MBA"])
    pdf = labels_pdf(devices, url_for=_url, layout=layout)
    assert sorted(_decoded_qr_codes(pdf)) == sorted(_url(device) for device in devices)
    text = " ".join(_page_texts(pdf))
    for expected in ("KE-MBA", "laptop", "Lenovo ThinkPad T480", "S/N PF1X", devices[0].label_code):
        assert expected in text


def test_an_a4_sheet_holds_24_labels_and_tape_one_per_label(hubs):
    devices = DeviceFactory.create_batch(25, donation__hub=hubs["BE-BRU"])
    a4 = pypdfium2.PdfDocument(labels_pdf(devices, url_for=_url, layout="a4"))
    assert len(a4) == 2
    assert LAYOUTS["a4"].columns * LAYOUTS["a4"].rows == 24
    width_pt, height_pt = a4[0].get_size()
    assert (round(width_pt / 72 * 25.4), round(height_pt / 72 * 25.4)) == (210, 297)
    tape = pypdfium2.PdfDocument(labels_pdf(devices[:3], url_for=_url, layout="tape"))
    assert len(tape) == 3
    assert round(tape[0].get_size()[0] / 72 * 25.4) == 62


def test_labels_from_the_scan_station_are_scoped_to_the_users_hubs(client, hubs, staff_ke_mba):
    ours = DeviceFactory(donation__hub=hubs["KE-MBA"])
    theirs = DeviceFactory(donation__hub=hubs["BE-BRU"])
    client.force_login(staff_ke_mba)
    response = client.get(reverse("scan:labels"), {"ids": f"{ours.pk},{theirs.pk}", "layout": "tape"})
    assert response["Content-Type"] == "application/pdf"
    decoded = _decoded_qr_codes(response.content)
    # The label holds the card's address without a language: one label for every technician.
    assert decoded == [f"http://testserver/scan/d/{ours.label_code}/"]
    assert client.get(reverse("scan:labels"), {"ids": str(theirs.pk)}).status_code == 404


def test_a_labels_address_opens_the_card_in_the_scanners_language(client, hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    for language in ("en", "fr", "nl"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(f"/scan/d/{device.label_code}/")
        assert (response.status_code, response["Location"]) == (302, f"/{language}/scan/d/{device.label_code}/")
        page = client.get(response["Location"])
        assert page.status_code == 200 and f'<html lang="{language}"' in page.content.decode()
