"""The offline scan station in a real Chromium (Playwright's ``context.set_offline``): it opens with no network
after a reload, keeps 50 moves made offline through a reload and a closed tab, sends them when the connection
returns, a second sync of the same queue changes nothing, a conflict and a refusal come back and are shown, an
expired session keeps the queue, and signing out empties the cache.

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

from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import Device, DeviceEvent, SyncedMove
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


def test_signing_out_empties_the_cache(serialised_server, browser, hubs, staff_ke_mba):
    with server_lock:
        DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="SIGNOUT1")
        _settled()
    context = _context(browser, staff_ke_mba, serialised_server)
    page = context.new_page()
    _open_station(page, serialised_server, cached=1)
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
