"""A bulk action on 800 devices from the admin, in a real Chromium: the progress bar fills and the job finishes.

800 is four chunks of 200 (BULK_JOB_CHUNK): enough for the bar to be seen part-way more than once. The time a
bulk job of many thousands takes is the benchmarks' to measure (bench/), not this test's.
"""

import contextlib
import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from donations.factories import DonationFactory
from refurbishing.models import BulkJob, Device, DeviceEvent
from refurbishing.services import device_register_many

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNT = 800


def test_a_bulk_receive_of_hundreds_of_devices_fills_its_progress_bar(live_server, browser, hubs, staff_be):
    hub = hubs["BE-BRU"]
    rows = [{"category": "laptop", "manufacturer": "Dell", "serial_number": f"BB{n:06d}"} for n in range(COUNT)]
    device_register_many(donation=DonationFactory(hub=hub), hub=hub, actor=None, rows=rows)  # one insert each
    client = Client()
    client.force_login(staff_be)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    context.add_cookies([{**cookie, "url": live_server.url}])
    page = context.new_page()

    page.goto(live_server.url + "/admin/refurbishing/device/?state__exact=pledged")
    page.locator("#action-toggle").check()
    page.locator(".actions .question a, .actions a.question").first.click()  # "Select all … devices"
    page.locator("select[name=action]").select_option("lifecycle_receive")
    page.locator(".actions button[name=index]").click()

    page.wait_for_url("**/scan/bulk/*/")
    bar = page.locator("#bulk-bar")
    moved = page.locator("[data-outcome] [data-progress-field=moved]")
    seen, moved_seen = [], []
    for _ in range(600):
        if page.locator("[data-outcome] .notice").count():
            break
        with contextlib.suppress(PlaywrightError):  # the page reloads itself once the job is over
            seen.append(int(bar.get_attribute("value", timeout=2_000) or 0))
            moved_seen.append(int(re.sub(r"\D", "", moved.inner_text(timeout=2_000)) or 0))
        page.wait_for_timeout(100)
    assert "This bulk action is finished." in page.locator("[data-outcome]").inner_text()
    # The bar was seen part-way, and it only ever grew.
    assert any(0 < value < COUNT for value in seen), seen
    assert seen == sorted(seen)
    # The "Moved" figure follows the polls too (the page drew one figure; more than one part-way came from them).
    assert len({value for value in moved_seen if 0 < value < COUNT}) > 1, moved_seen
    assert page.locator("#bulk-bar").get_attribute("value") == str(COUNT)
    job = BulkJob.objects.get()
    assert (job.status, job.done, job.moved, job.refused) == ("done", COUNT, COUNT, [])
    assert Device.objects.filter(state="received").count() == COUNT
    assert DeviceEvent.objects.filter(action="receive").count() == COUNT
    context.close()
