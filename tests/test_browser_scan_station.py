"""The scan station in a real Chromium at phone width, by keyboard alone, as with a keyboard-wedge scanner:
each scan is the code typed and Enter; three devices go through sanitise and inspect."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import Device, SanitisationRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
SERIALS = ["5CG8100AA1", "5CG8100AA2", "5CG8100AA3"]


def _signed_in_context(browser, user, live_server):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=PHONE)
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    context.add_cookies([{**cookie, "url": live_server.url}])
    return context


def _focused(page) -> dict:
    return page.evaluate(
        "() => ({id: document.activeElement.id, text: (document.activeElement.textContent || '').trim(),"
        " tag: document.activeElement.tagName})"
    )


def _tab_to(page, *, text=None, element_id=None, limit=25) -> None:
    """Press Tab until the focus is on the button with ``text`` or the field ``element_id`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if (text and focused["text"] == text) or (element_id and focused["id"] == element_id):
            return
    raise AssertionError(f"Tab never reached {text or element_id}; last focus: {focused}")


def _scan(page, code) -> None:
    assert _focused(page)["id"] == "scan-code", "the cursor is back in the scan field"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#scan-result .device-card:has-text('{code}')")


def test_three_devices_sanitised_and_inspected_by_keyboard_at_phone_width(live_server, browser, hubs, staff_ke_mba):
    devices = [
        device_through(DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number=s), "receive", actor=staff_ke_mba)
        for s in SERIALS
    ]
    page = _signed_in_context(browser, staff_ke_mba, live_server).new_page()
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.goto(live_server.url + reverse("scan:station"))
    page_loads = len([r for r in requests if r.resource_type == "document"])

    for number, device in enumerate(devices):
        _scan(page, device.serial_number)
        assert page.locator("#scan-result .device-state").inner_text().startswith("received")

        _tab_to(page, text="Sanitise storage media")
        page.keyboard.press("Enter")
        page.wait_for_selector(".scan-action-form")
        assert _focused(page)["id"] == "scan-method", "the form's first field takes the cursor"
        if number == 0:  # the first wipe is typed in full; the next forms offer the same tool and method
            page.keyboard.type("p")  # purge
            _tab_to(page, element_id="scan-technique")
            page.keyboard.type("ATA Secure Erase")
            _tab_to(page, element_id="scan-tool")
            page.keyboard.type("nwipe")
            _tab_to(page, element_id="scan-tool_version")
            page.keyboard.type("0.34")
            _tab_to(page, element_id="scan-verification")
            page.keyboard.type("f")  # full verification
        _tab_to(page, element_id="scan-verified")
        page.keyboard.press("Space")
        _tab_to(page, text="Record: Sanitise storage media")
        page.keyboard.press("Enter")
        page.wait_for_selector("#scan-result [data-device-state='sanitised']")
        assert "is now sanitised" in page.locator("#scan-result .scan-message").inner_text()
        assert _focused(page)["id"] == "scan-code"

        _tab_to(page, text="Inspect")
        page.keyboard.press("Enter")
        page.wait_for_selector(".scan-action-form")
        _tab_to(page, element_id="scan-grade")
        page.keyboard.type("b")
        _tab_to(page, text="Record: Inspect")
        page.keyboard.press("Enter")
        page.wait_for_selector("#scan-result [data-device-state='inspected']")
        assert _focused(page)["id"] == "scan-code"
        assert "Inspected: passed" in page.locator("#scan-result .timeline").inner_text()

    # One page load; every scan and move after it was a fragment.
    assert len([r for r in requests if r.resource_type == "document"]) == page_loads == 1
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), "no sideways scrolling"
    for device in devices:
        device = Device.objects.get(pk=device.pk)
        assert (device.state, device.grade) == (Device.State.INSPECTED, "B")
        assert [e.action for e in device.events.order_by("id")] == ["pledge", "receive", "sanitise", "inspect"]
        record = SanitisationRecord.objects.get(device=device)
        assert (record.method, record.tool, record.operator) == ("purge", "nwipe", staff_ke_mba)
