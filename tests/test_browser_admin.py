"""The admin's device list in a real Chromium at 1280 px: every column shows, none cut behind a sideways scroll."""

import pytest
from django.conf import settings
from django.test import Client

from refurbishing.factories import DeviceFactory, device_through

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_device_list_shows_every_column_at_1280_px(live_server, browser, hubs, staff_be):
    for n in range(6):
        device = DeviceFactory(
            donation__hub=hubs["BE-BRU"],
            manufacturer="Hewlett-Packard",
            model="EliteBook 840 G5 Notebook PC",
            serial_number=f"5CG8{n:06d}XYZ",
            asset_tag=f"ACME-IT-ASSET-{n:05d}",
        )
    device_through(device, "receive", "sanitise", "inspect", actor=staff_be)  # a state with its grade
    client = Client()
    client.force_login(staff_be)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    context.add_cookies([{**cookie, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/admin/refurbishing/device/")
    widths = page.evaluate(
        "() => { const r = document.querySelector('#changelist .results');"
        " return {scroll: r.scrollWidth, client: r.clientWidth, page: document.documentElement.scrollWidth}; }"
    )
    assert widths["scroll"] <= widths["client"], widths
    assert widths["page"] <= 1280, widths
    headers = page.locator("#result_list thead th").all_inner_texts()
    for column in ("SERIAL NUMBER", "DONOR ASSET TAG", "MAKE AND MODEL", "STATE", "CURRENT HUB", "DONATION"):
        assert any(column in header.upper() for header in headers), headers
    assert "inspected, grade A" in page.locator("#result_list").inner_text()
