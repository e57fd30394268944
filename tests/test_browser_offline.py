"""The offline scan station in a real Chromium (Playwright's ``context.set_offline``): it opens with no network
after a reload, keeps 50 moves made offline through a reload and a closed tab, sends them when the connection
returns, a second sync of the same queue changes nothing, a conflict and a refusal come back and are shown, an
expired session keeps the queue, a transfer is checked in offline (a code it does not carry, and a device scanned
twice, are said at once and not kept), a version 1 database keeps its queue when it gains the transfers, and
signing out empties the cache.

The live server answers from several threads over the one in-memory SQLite connection the test shares with it;
the station's requests overlap (its page, its worker, its sync), so ``serialised_server`` makes them take turns,
and the test takes the same turn (``server_lock``) whenever it reads or writes the database itself. Every wait is
on a state the page announces (``data-*`` attributes set by scan-offline.js), never on a sleep.
"""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from refurbishing.factories import DeviceFactory, device_through, devices_received
from refurbishing.models import Device, DeviceEvent, SyncedMove, TransferDevice
from refurbishing.transfers.services import transfer_send
from tests.live_server import LIVE_SERVER_LOCK, one_request_at_a_time

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STATION = "[data-offline-station]"
server_lock = LIVE_SERVER_LOCK


@pytest.fixture
def serialised_server(live_server):
    """The live server, handling one request at a time (body included), under ``server_lock``, on any database."""
    with one_request_at_a_time(live_server):
        yield live_server


def _context(browser, user, server):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    context.add_cookies([{**cookie, "url": server.url}])
    return context


def _settled(**filters):
    """Devices made a moment ago, dated back past the cache's settling time (so the first download has them)."""
    Device.objects.filter(**filters).update(updated_at=timezone.now() - timedelta(seconds=10))


def _wait_state(page, name, value, timeout=20_000):
    page.wait_for_selector(f"{STATION}[data-{name}='{value}']", state="attached", timeout=timeout)


def _open_station(page, server, *, cached):
    page.goto(server.url + reverse("scan:station"))
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "cache-count", str(cached))
    _wait_controlled(page)


def _wait_controlled(page):
    """Until the station's worker is active and controls the page (it claims its clients when it activates)."""
    page.evaluate(
        """async () => {
            await navigator.serviceWorker.ready;
            while (!navigator.serviceWorker.controller) { await new Promise((r) => setTimeout(r, 50)); }
        }"""
    )


def _queue(page):
    return page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("closegap-scan");
            open.onsuccess = () => {
                const all = open.result.transaction("queue").objectStore("queue").getAll();
                all.onsuccess = () => { open.result.close(); resolve(all.result); };
            };
        })"""
    )


def _scan_and_receive(page, device, count):
    field = page.locator("#scan-code")
    field.fill(device.serial_number)
    field.press("Enter")
    card = page.locator(f"#scan-result [data-label-code='{device.label_code}']")
    button = card.locator("[data-offline-action='receive']")
    assert button.inner_text() == "Receive at hub"
    button.click()
    _wait_state(page, "queue-count", str(count))


def test_fifty_moves_made_offline_survive_a_reload_and_are_applied_once(serialised_server, browser, hubs, staff_ke_mba):
    with server_lock:
        devices = [
            DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number=f"OFF{n:04d}", has_storage_media=False)
            for n in range(50)
        ]
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=50)

    context.set_offline(True)
    page.reload()  # served by the worker: the shell, and the devices from IndexedDB
    _wait_state(page, "offline-ready", "true")
    assert page.locator("#offline-queue h2").inner_text() == "Offline: no move waiting"
    for number, device in enumerate(devices, start=1):
        _scan_and_receive(page, device, number)
    assert page.locator("#offline-queue h2").inner_text() == "Offline: 50 moves waiting"

    page.reload()
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "queue-count", "50")
    page.close()
    page = context.new_page()  # the tab closed and opened again, still offline
    page.goto(serialised_server.url + reverse("scan:station"))
    _wait_state(page, "queue-count", "50")
    # One dropped before it is sent.
    dropped = page.locator("#offline-queue li").first
    dropped_label = dropped.inner_text()
    dropped.get_by_role("button").click()
    _wait_state(page, "queue-count", "49")
    queue = _queue(page)
    assert len(queue) == 49 and all(move["actor"] == staff_ke_mba.pk for move in queue)
    with server_lock:
        assert Device.objects.filter(state="received").count() == 0  # nothing reached the server yet

    context.set_offline(False)  # reconnecting sends the queue by itself
    _wait_state(page, "sync-state", "done")
    _wait_state(page, "queue-count", "0")
    summary = page.locator("[data-outcomes-summary]").inner_text()
    assert summary.startswith("Sent: 49 applied, 0 already recorded, 0 refused, 0 in conflict")
    with server_lock:
        assert Device.objects.filter(state="received").count() == 49
        assert SyncedMove.objects.filter(outcome="applied").count() == 49
        events = DeviceEvent.objects.count()
    assert dropped_label.split(":")[0] == "Receive at hub"

    # The same queue sent again (a retry after a lost answer): every move is a duplicate, nothing changes.
    moves = [
        {key: move[key] for key in ("id", "code", "action", "fields", "version", "occurred_at", "actor")}
        for move in queue
    ]
    answers = page.evaluate(
        """async (moves) => {
            const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
            const csrf = token ? token.split("=")[1] : document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const results = [];
            for (let i = 0; i < moves.length; i += 100) {
                const response = await fetch("/api/v1/sync/", {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                    body: JSON.stringify({moves: moves.slice(i, i + 100)})});
                results.push(...(await response.json()).results);
            }
            return results.map((r) => r.status);
        }""",
        moves,
    )
    assert answers == ["duplicate"] * 49
    with server_lock:
        assert DeviceEvent.objects.count() == events
    context.close()


def test_a_conflict_and_a_refusal_come_back_and_are_shown(serialised_server, browser, hubs, staff_ke_mba):
    with server_lock:
        other = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="CONFLICT1", has_storage_media=False)
        wiped = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="REFUSE1", has_storage_media=True)
        device_through(wiped, "receive", actor=staff_ke_mba)
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=2)
    context.set_offline(True)
    page.reload()
    _wait_state(page, "offline-ready", "true")

    _scan_and_receive(page, other, 1)
    # A wipe recorded without its verification: kept offline, refused by the server's guard.
    page.locator("#scan-code").fill("REFUSE1")
    page.locator("#scan-code").press("Enter")
    page.get_by_role("button", name="Sanitise storage media").click()
    form = page.locator("form[data-offline-form='sanitise']")
    form.get_by_label("Technique").fill("ATA Secure Erase")
    form.get_by_label("Tool", exact=True).fill("nwipe")
    form.get_by_role("button", name="Record: Sanitise storage media").click()
    _wait_state(page, "queue-count", "2")

    with server_lock:  # meanwhile, another technician marks the first device missing, online
        device_through(Device.objects.get(pk=other.pk), "mark_missing", actor=staff_ke_mba)

    context.set_offline(False)
    _wait_state(page, "sync-state", "done")
    conflict = page.locator("[data-answer='conflict']")
    refused = page.locator("[data-answer='refused']")
    assert "just changed by someone else" in conflict.inner_text()
    assert "verified" in refused.inner_text()
    with server_lock:
        assert Device.objects.get(pk=other.pk).state == "missing"
        assert Device.objects.get(pk=wiped.pk).state == "received"
        assert set(SyncedMove.objects.values_list("outcome", flat=True)) == {"conflict", "refused"}
    context.close()


def test_an_expired_session_keeps_the_queue_and_asks_to_sign_in(serialised_server, browser, hubs, staff_ke_mba):
    with server_lock:
        device = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="EXPIRED1")
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=1)
    context.set_offline(True)
    _scan_and_receive(page, device, 1)
    context.clear_cookies()  # the session ended while the station was offline
    context.set_offline(False)
    _wait_state(page, "sync-state", "signin")
    assert page.get_by_role("link", name="Sign in again").is_visible()
    _wait_state(page, "queue-count", "1")
    with server_lock:
        assert not SyncedMove.objects.exists()
    context.close()


def test_a_page_it_cannot_serve_offline_says_so(serialised_server, browser, hubs, staff_ke_mba):
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    page.goto(serialised_server.url + reverse("scan:station").replace("/en/", "/fr/"))
    _wait_state(page, "offline-ready", "true")
    _wait_controlled(page)
    context.set_offline(True)
    page.goto(serialised_server.url + "/fr/scan/bulk/")
    assert page.locator("h1").inner_text() == "Vous êtes hors ligne"
    context.close()


def _travelling(hubs, staff_be, manager_be, count=3, reference="MSCU7654321"):
    """``count`` devices received at BE-BRU and sent to KE-MBA in one container."""
    devices = devices_received(count, hub=hubs["BE-BRU"], actor=staff_be)
    transfer = transfer_send(
        from_hub=hubs["BE-BRU"], to_hub=hubs["KE-MBA"], devices=devices, reference=reference, actor=manager_be
    )
    return transfer, [Device.objects.get(pk=device.pk) for device in devices]


def _scan(page, code):
    field = page.locator("#scan-code")
    field.fill(code)
    field.press("Enter")


def _stored(page, store):
    return page.evaluate(
        """(store) => new Promise((resolve) => {
            const open = indexedDB.open("closegap-scan");
            open.onsuccess = () => {
                const all = open.result.transaction(store).objectStore(store).getAll();
                all.onsuccess = () => { open.result.close(); resolve(all.result); };
            };
        })""",
        store,
    )


def test_a_transfer_checked_in_offline_survives_a_reload_and_is_received_on_reconnect(
    serialised_server, browser, hubs, staff_be, manager_be, staff_ke_mba
):
    with server_lock:
        transfer, devices = _travelling(hubs, staff_be, manager_be)
        Device.objects.filter(pk=devices[1].pk).update(asset_tag="CTG-0042")
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=0)  # the devices are still BE-BRU's
    _wait_state(page, "transfer-count", "1")
    context.set_offline(True)
    page.reload()
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "transfer-count", "1")
    choice = page.get_by_label("Transfer to check in")
    assert choice.locator("option").all_inner_texts() == [
        "None: a scan shows the device and its next moves",
        "MSCU7654321: 3 to check in",
    ]
    choice.select_option(label="MSCU7654321: 3 to check in")
    detail = page.locator("#scan-transfer-detail")
    expect(detail).to_have_text("MSCU7654321, from BE-BRU to KE-MBA: 3 of 3 still to check in.")
    # By serial, by asset tag and by label code (typed in small letters, with spaces around).
    _scan(page, devices[0].serial_number)
    _wait_state(page, "queue-count", "1")
    assert "Check-in of" in page.locator("#scan-result [data-scan-outcome='checked-in']").inner_text()
    _scan(page, "CTG-0042")
    _wait_state(page, "queue-count", "2")
    _scan(page, f"  {devices[2].label_code.lower()} ")
    _wait_state(page, "queue-count", "3")
    assert choice.locator("option").nth(1).inner_text() == "MSCU7654321: 0 to check in"
    expect(detail).to_have_text("MSCU7654321, from BE-BRU to KE-MBA: 0 of 3 still to check in.")
    assert page.locator("#offline-queue li").first.inner_text().startswith("Check in from MSCU7654321: ")

    page.reload()
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "queue-count", "3")
    queue = _queue(page)
    assert {move["action"] for move in queue} == {"check_in"}
    assert {move["fields"]["transfer"] for move in queue} == {transfer.pk}
    assert page.get_by_label("Transfer to check in").input_value() == str(transfer.pk)  # still chosen
    with server_lock:
        assert not TransferDevice.objects.filter(status="received").exists()

    context.set_offline(False)
    _wait_state(page, "sync-state", "done")
    _wait_state(page, "queue-count", "0")
    summary = page.locator("[data-outcomes-summary]").inner_text()
    assert summary.startswith("Sent: 3 applied, 0 already recorded, 0 refused, 0 in conflict")
    _wait_state(page, "cache-count", "3")  # now the station's own devices
    with server_lock:
        assert {d.hub.code for d in Device.objects.filter(pk__in=[d.pk for d in devices])} == {"KE-MBA"}
        assert set(TransferDevice.objects.filter(transfer=transfer).values_list("status", flat=True)) == {"received"}
        assert SyncedMove.objects.filter(outcome="applied").count() == 3
    rows = _stored(page, "transfers")[0]["devices"]
    assert {row["status"] for row in rows} == {"received"}
    context.close()


def test_a_code_the_transfer_does_not_carry_and_a_second_scan_are_said_at_once(
    serialised_server, browser, hubs, staff_be, manager_be, staff_ke_mba
):
    with server_lock:
        transfer, devices = _travelling(hubs, staff_be, manager_be, count=2)
        DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="HOME0001")
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=1)
    _wait_state(page, "transfer-count", "1")
    context.set_offline(True)
    choice = page.get_by_label("Transfer to check in")
    choice.click()  # a tap on the select, then a choice
    expect(choice).to_be_focused()
    choice.select_option(str(transfer.pk))
    expect(page.locator("#scan-code")).to_be_focused()  # chosen: the scanner's next code goes to the scan field

    _scan(page, "HOME0001")  # a device of the hub's own, not in the container
    refusal = page.get_by_role("alert")
    assert refusal.inner_text() == "HOME0001 is not in transfer MSCU7654321."
    _scan(page, devices[0].serial_number)
    _wait_state(page, "queue-count", "1")
    _scan(page, devices[0].serial_number)
    page.wait_for_selector("#scan-result [data-scan-outcome='already-checked-in']")
    assert page.locator("#scan-result [role=status]").inner_text().endswith("was already checked in.")
    assert len(_queue(page)) == 1

    # Dropped, it can be scanned again; sent online, a later scan is told by the server's list.
    page.locator("#offline-queue li").first.get_by_role("button").click()
    _wait_state(page, "queue-count", "0")
    context.set_offline(False)
    page.wait_for_function("() => navigator.onLine")
    _scan(page, devices[0].serial_number)  # online with a transfer chosen: kept and sent at once
    _wait_state(page, "sync-state", "done")
    _wait_state(page, "queue-count", "0")
    with server_lock:
        assert TransferDevice.objects.get(device=devices[0]).status == "received"
        assert TransferDevice.objects.get(device=devices[1]).status == "in_transit"
    page.reload()
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "cache-state", "ready")
    _scan(page, devices[0].label_code)
    page.wait_for_selector("#scan-result [data-scan-outcome='already-checked-in']")
    assert len(_queue(page)) == 0
    # From the keyboard, each arrow changes the choice at once: the focus stays, so the next arrow still counts.
    choice.focus()
    choice.press("ArrowUp")
    expect(choice).to_have_value("")
    expect(choice).to_be_focused()
    context.close()


def test_a_version_1_database_keeps_its_queue_and_gains_the_transfers(
    serialised_server, browser, hubs, staff_be, manager_be, staff_ke_mba
):
    with server_lock:
        _travelling(hubs, staff_be, manager_be, count=1)
        device = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="OLDQUEUE1")
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    page.goto(serialised_server.url + reverse("impact:home"))  # same origin, before the station's script runs
    move = {
        "id": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
        "code": device.label_code,
        "action": "mark_missing",
        "fields": {"note": "Kept by the earlier station"},
        "version": device.version,
        "occurred_at": timezone.now().isoformat(),
        "actor": staff_ke_mba.pk,
        "seq": 1,
        "device_name": device.label_code,
        "action_label": "Mark missing",
        "before": {"state": device.state, "version": device.version},
    }
    page.evaluate(
        """([move, user]) => new Promise((resolve) => {
            const open = indexedDB.open("closegap-scan", 1);
            open.onupgradeneeded = () => {
                const db = open.result;
                const devices = db.createObjectStore("devices", { keyPath: "label_code" });
                devices.createIndex("serial", "serial");
                devices.createIndex("asset_tag", "asset_tag");
                db.createObjectStore("queue", { keyPath: "id" }).createIndex("seq", "seq");
                db.createObjectStore("meta", { keyPath: "key" });
            };
            open.onsuccess = () => {
                const tx = open.result.transaction(["queue", "meta"], "readwrite");
                tx.objectStore("queue").put(move);
                tx.objectStore("meta").put({ key: "user", value: user });
                tx.oncomplete = () => { open.result.close(); resolve(); };
            };
        })""",
        [move, staff_ke_mba.pk],
    )
    page.goto(serialised_server.url + reverse("scan:station"))
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "transfer-count", "1")
    _wait_state(page, "sync-state", "done")  # the old move, sent as any other
    with server_lock:
        assert Device.objects.get(pk=device.pk).state == "missing"
        assert str(SyncedMove.objects.get().uuid) == move["id"]
    version = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("closegap-scan");
            open.onsuccess = () => {
                const db = open.result;
                resolve([db.version, [...db.objectStoreNames]]);
                db.close();
            };
        })"""
    )
    assert version == [2, ["devices", "meta", "queue", "transfers"]]
    context.close()


def test_signing_out_empties_the_cache(serialised_server, browser, hubs, staff_be, manager_be, staff_ke_mba):
    with server_lock:
        DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="SIGNOUT1")
        _travelling(hubs, staff_be, manager_be, count=1)
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=1)
    _wait_state(page, "transfer-count", "1")
    assert len(_stored(page, "transfers")) == 1
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(serialised_server.url + reverse("impact:home"))
    stored = page.evaluate(
        """async () => ({
            databases: (await indexedDB.databases()).map((d) => d.name),
            caches: await caches.keys(),
        })"""
    )
    assert "closegap-scan" not in stored["databases"], json.dumps(stored)
    assert not [name for name in stored["caches"] if name.startswith("closegap-scan")]
    context.close()
