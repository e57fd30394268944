"""Pledging in a real Chromium: device rows added and removed without a reload, and a spreadsheet uploaded, its
mapping fixed, imported, with the progress bar watched until the end."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from donations import tasks as donation_tasks
from donations.imports.spreadsheet import RowCleaner
from donations.models import Donation
from donations.services import imports as donation_imports
from refurbishing.models import Device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def worker(monkeypatch):
    """A worker of our own: the import task runs in a thread, slowed to ~30 ms a row, so the bar has time to move."""
    threads = []
    real_clean = RowCleaner.clean

    def slow_clean(self, row_number, cells):
        threading.Event().wait(0.03)
        return real_clean(self, row_number, cells)

    def run(import_id):
        try:
            donation_imports.spreadsheet_import_run(import_id=import_id)
        finally:
            connection.close()

    def delay(import_id):
        thread = threading.Thread(target=run, args=(import_id,))
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(RowCleaner, "clean", slow_clean)
    monkeypatch.setattr(donation_imports, "PROGRESS_EVERY", 5)
    monkeypatch.setattr(donation_tasks.spreadsheet_import_run, "delay", delay)
    yield threads
    for thread in threads:
        thread.join(30)


def test_upload_fix_the_mapping_import_and_watch_the_progress_bar(
    live_server, page, hubs, donor_user, worker, tmp_path
):
    sign_in(page, live_server, donor_user)
    rows = "".join(f"BRW-{n:03d};Lenovo;ThinkPad T14;Portables;16 Go\n" for n in range(100))
    path = tmp_path / "inventaire.csv"
    # "Code" means nothing to the matcher: the person says it holds the serial numbers.
    path.write_bytes(("Code;Marque;Modèle;Type;Mémoire\n" + rows).encode("cp1252"))

    page.goto(live_server.url + reverse("donations:import_pledge"))
    page.select_option("#id_hub", str(hubs["BE-BRU"].pk))
    page.fill("#id_pickup_address", "Rue Haute 1, 1000 Brussels")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("main button[type=submit]")

    assert "100 device rows read" in page.inner_text("main")
    assert "no column holds the Serial number" in page.inner_text("main")
    assert page.locator("button[name=import]").count() == 0
    page.select_option("#id_column_0", "serial_number")
    with page.expect_navigation():
        page.click("main button[name=check]")
    assert "No problems found" in page.inner_text("main")

    with page.expect_navigation():
        page.click("main button[name=import]")
    bar = page.locator("progress#import-bar")
    assert bar.get_attribute("max") == "100"
    # The bar moves while the import runs (the page polls), then the page shows the outcome.
    page.wait_for_function(
        "() => { const bar = document.getElementById('import-bar'); return bar && bar.value > 0 && bar.value < 100; }",
        timeout=15_000,
    )
    page.wait_for_selector("text=100 devices imported", timeout=30_000)
    assert page.locator("progress#import-bar").get_attribute("value") == "100"
    donation = Donation.objects.get()
    assert Device.objects.filter(donation=donation, category="laptop", ram_gb=16).count() == 100
    page.click("text=See donation")
    assert donation.reference in page.inner_text("h1")


def test_device_rows_are_added_and_removed_without_a_reload(live_server, page, hubs, donor_user):
    sign_in(page, live_server, donor_user)
    page.goto(live_server.url + reverse("donations:pledge"))
    page.evaluate("window.notReloaded = true")
    assert page.locator("[data-rows] [data-row]").count() == 5
    page.click("[data-add-row]")
    assert page.locator("[data-rows] [data-row]").count() == 6
    assert page.input_value("#id_devices-TOTAL_FORMS") == "6"
    assert page.evaluate("document.activeElement.id") == "id_devices-5-category"
    # The default of "has a disk" follows the category: a monitor has none.
    page.select_option("#id_devices-5-category", "monitor")
    assert "No" in page.locator("#id_devices-5-has_storage_media option").first.inner_text()
    page.select_option("#id_devices-0-category", "laptop")
    assert "Yes" in page.locator("#id_devices-0-has_storage_media option").first.inner_text()
    page.fill("#id_devices-5-manufacturer", "Iiyama")
    page.fill("#id_devices-5-quantity", "4")
    page.fill("#id_devices-5-weight_kg", "4,5")
    page.fill("#id_devices-0-manufacturer", "Dell")
    page.fill("#id_devices-0-serial_number", "ROW-ONE")
    # Remove the second row: the later rows are renumbered, so the formset still reads them.
    page.locator("[data-rows] [data-row]").nth(1).locator("[data-remove-row]").click()
    assert page.locator("[data-rows] [data-row]").count() == 5
    assert page.input_value("#id_devices-4-manufacturer") == "Iiyama"
    assert page.evaluate("window.notReloaded") is True
    with page.expect_navigation():
        page.click("main button[type=submit]:not([name])")
    donation = Donation.objects.get()
    devices = Device.objects.filter(donation=donation)
    assert devices.filter(manufacturer="Iiyama", has_storage_media=False, category="monitor").count() == 4
    assert set(devices.filter(manufacturer="Iiyama").values_list("weight_kg", "weight_basis")) == {
        (Decimal("4.50"), "declared")
    }
    assert devices.get(serial_number="ROW-ONE").has_storage_media is True


def test_on_a_phone_a_row_takes_a_weight_with_the_decimal_keypad_and_nothing_overflows(
    live_server, page, hubs, donor_user
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, donor_user)
    page.goto(live_server.url + reverse("donations:pledge"))
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    weight = page.locator("#id_devices-0-weight_kg")
    assert weight.get_attribute("inputmode") == "decimal"
    box = weight.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.fill("#id_devices-0-weight_kg", "heavy")
    with page.expect_navigation():
        page.click("main button[type=submit]:not([name])")
    # Refused beside the field, the rest of the row kept as typed.
    assert "Enter the weight in kilograms" in page.inner_text("#id_devices-0-weight_kg_error")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.select_option("#id_devices-0-category", "laptop")
    page.fill("#id_devices-0-manufacturer", "Lenovo")
    page.fill("#id_devices-0-weight_kg", "1,62")
    page.fill("#id_devices-1-manufacturer", "HP")
    page.select_option("#id_devices-1-category", "desktop")
    with page.expect_navigation():
        page.click("main button[type=submit]:not([name])")
    devices = Device.objects.filter(donation=Donation.objects.get())
    assert devices.get(manufacturer="Lenovo").weight_kg == Decimal("1.62")
    assert devices.get(manufacturer="Lenovo").weight_basis == "declared"
    assert devices.get(manufacturer="HP").weight_basis == "category"
