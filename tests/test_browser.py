"""The public page in a real Chromium: a transition made here shows on the open page without a reload."""

import pytest
from django.core.cache import cache

from impact.services import impact_fold_events
from refurbishing.services import device_transition
from tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def headline(page, metric):
    return page.locator(f'[data-metric="{metric}"]:not([data-hub])').first.inner_text()


def test_a_transition_shows_on_the_open_home_page_without_reload(live_server, page, hubs, staff_ke_mba):
    cache.clear()
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    impact_fold_events()
    page.goto(live_server.url + "/")
    assert headline(page, "devices_received") == "0"
    page.evaluate("window.__notReloaded = true")

    device_transition(device=devices[0], action="receive", actor=staff_ke_mba)
    device_transition(device=devices[1], action="receive", actor=staff_ke_mba)

    page.wait_for_function(
        """() => document.querySelector('[data-metric="devices_received"]:not([data-hub])').textContent === "2" """,
        timeout=20_000,
    )
    hub_cell = page.locator('[data-hub="KE-MBA"][data-metric="devices_received"]').first.inner_text()
    assert hub_cell == "2"
    assert page.evaluate("window.__notReloaded") is True
