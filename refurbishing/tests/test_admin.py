"""The device admin: hub scoping, edits through the services, lifecycle bulk actions, and the custody record."""

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.pagination import CappedCountPaginator
from donations.factories import DonationFactory
from hubs.models import HubMembership
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import Device, DeviceEvent, InspectionRecord, SanitisationRecord
from refurbishing.tests.admin_forms import change_form_data

CHANGELIST = "admin:refurbishing_device_changelist"
# Far past any id a database stores (bigint), and past what SQLite can bind at all.
HUGE_ID = "9" * 25
MARKUP = "<script>alert(1)</script>"


def _device_change_url(device):
    return reverse("admin:refurbishing_device_change", args=[device.pk])


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _run_action(client, action, devices, **extra):
    data = {"action": action, "index": "0", "_selected_action": [d.pk for d in devices], **extra}
    return client.post(reverse(CHANGELIST), data)


# Scoping


def test_device_changelist_shows_only_the_users_hub(client, hubs, staff_ke_mba):
    mine = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    theirs = DeviceFactory.create_batch(2, donation__hub=hubs["ZA-JNB"])
    client.force_login(staff_ke_mba)

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    shown = {device.pk for device in response.context["cl"].result_list}
    assert shown == {d.pk for d in mine}
    content = response.content.decode()
    for device in theirs:
        assert device.serial_number not in content
    # The hub filter offers only the user's hub.
    assert "ZA-JNB" not in content


def test_device_search_matches_exact_serial(client, hubs, staff_ke_mba):
    wanted, other = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)

    response = client.get(reverse(CHANGELIST), {"q": wanted.serial_number.lower()})

    assert [d.pk for d in response.context["cl"].result_list] == [wanted.pk]


def test_staff_cannot_view_or_change_a_device_of_another_hub(client, hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["ZA-JNB"])
    client.force_login(staff_ke_mba)

    response = client.get(_device_change_url(device))
    assert response.status_code == 404
    assert device.serial_number not in response.content.decode()

    response = client.post(_device_change_url(device), {"hub": hubs["KE-MBA"].pk, "manufacturer": "HP"})
    assert response.status_code == 404
    device.refresh_from_db()
    assert (device.hub_id, device.manufacturer) == (hubs["ZA-JNB"].pk, "Dell")


def test_staff_cannot_move_a_device_to_a_hub_they_do_not_work_at(client, hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    data = change_form_data(client.get(_device_change_url(device)))

    response = client.post(_device_change_url(device), {**data, "hub": hubs["ZA-JNB"].pk, "model": "Moved"})

    assert response.status_code == 200
    assert "You can only move a device to a hub you work at." in response.content.decode()
    device.refresh_from_db()
    assert (device.hub_id, device.model) == (hubs["KE-MBA"].pk, "Latitude 5490")
    assert device.events.count() == 1


def test_staff_edit_goes_through_the_service(client, hubs, staff_ke_mba):
    HubMembership.objects.create(user=staff_ke_mba, hub=hubs["KE-NBO"])
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    data = change_form_data(client.get(_device_change_url(device)))

    with CaptureQueriesContext(connection) as queries:
        response = client.post(_device_change_url(device), {**data, "hub": hubs["KE-NBO"].pk, "ram_gb": "16"})

    assert response.status_code == 302
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "DELETE", "INSERT"))]
    assert not [sql for sql in writes if "refurbishing_deviceevent" in sql.split(" WHERE")[0]]
    assert any(sql.startswith('UPDATE "refurbishing_device"') for sql in writes)
    device.refresh_from_db()
    assert (device.hub_id, device.ram_gb, device.state) == (hubs["KE-NBO"].pk, 16, Device.State.PLEDGED)


def test_an_edit_the_service_refuses_saves_nothing(client, hubs, staff_ke_mba):
    # Both hubs are the user's, so the form accepts the choice; the service refuses a device that left the hub's care.
    HubMembership.objects.create(user=staff_ke_mba, hub=hubs["KE-NBO"])
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "mark_missing", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    data = change_form_data(client.get(_device_change_url(device)))

    response = client.post(
        _device_change_url(device), {**data, "hub": hubs["KE-NBO"].pk, "model": "Renamed"}, follow=True
    )

    assert any("only devices still in a hub's care can change hub" in m for m in _messages(response))
    device.refresh_from_db()
    assert (device.hub_id, device.model) == (hubs["KE-MBA"].pk, "Latitude 5490")


def test_superuser_adds_a_pledged_device_with_its_first_event(client, hubs, superuser):
    donation = DonationFactory(hub=hubs["BE-BRU"])
    client.force_login(superuser)
    data = {
        "donation": donation.pk,
        "hub": hubs["BE-BRU"].pk,
        "category": "laptop",
        "manufacturer": "Lenovo",
        "model": "T480",
        "serial_number": "ADMIN-1",
        "has_storage_media": "on",
    }

    response = client.post(reverse("admin:refurbishing_device_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    device = Device.objects.get(serial_number="ADMIN-1")
    assert device.state == Device.State.PLEDGED
    assert list(device.events.values_list("action", "to_state", "actor")) == [("pledge", "pledged", superuser.pk)]


def test_staff_cannot_add_devices(client, hubs, staff_ke_mba):
    client.force_login(staff_ke_mba)

    assert client.get(reverse("admin:refurbishing_device_add")).status_code == 403


def test_donation_filter_with_an_impossible_id_is_an_empty_list_not_a_500(client, hubs, staff_ke_mba):
    DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    response = client.get(reverse(CHANGELIST), {"donation": HUGE_ID})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


# Lifecycle bulk actions


def test_bulk_receive_moves_selected_pledged_devices_and_writes_events(client, hubs, staff_ke_mba):
    selected = DeviceFactory.create_batch(3, donation__hub=hubs["KE-MBA"])
    not_selected = DeviceFactory(donation__hub=hubs["KE-MBA"])
    other_hub = DeviceFactory(donation__hub=hubs["ZA-JNB"])
    client.force_login(staff_ke_mba)

    response = _run_action(client, "lifecycle_receive", [*selected, other_hub])

    assert response.status_code == 302
    for device in selected:
        device.refresh_from_db()
        assert device.state == Device.State.RECEIVED
        event = device.events.latest("id")
        assert (event.action, event.from_state, event.to_state, event.actor_id) == (
            "receive",
            "pledged",
            "received",
            staff_ke_mba.pk,
        )
    for device in (not_selected, other_hub):
        device.refresh_from_db()
        assert device.state == Device.State.PLEDGED
    assert "Receive at hub: 3 devices moved." in _messages(client.get(reverse(CHANGELIST)))


def test_bulk_sanitise_asks_for_the_record_then_moves_devices(client, hubs, staff_ke_mba, sanitisation):
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    for device in devices:
        device_through(device, "receive", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)

    page = _run_action(client, "lifecycle_sanitise", devices)

    assert page.status_code == 200
    assert "admin/action_form.html" in [t.name for t in page.templates]
    content = page.content.decode()
    assert 'name="lifecycle-method"' in content and 'name="apply"' in content
    assert Device.objects.filter(state=Device.State.SANITISED).count() == 0

    fields = {f"lifecycle-{name}": value for name, value in sanitisation.items() if name != "verified"}
    response = _run_action(client, "lifecycle_sanitise", devices, apply="1", **fields, **{"lifecycle-verified": "on"})

    assert response.status_code == 302
    for device in devices:
        device.refresh_from_db()
        assert device.state == Device.State.SANITISED
        record = SanitisationRecord.objects.get(device=device)
        assert (record.method, record.tool, record.operator_id) == ("purge", "nwipe", staff_ke_mba.pk)


def test_bulk_sanitise_with_invalid_details_shows_the_form_again(client, hubs, staff_ke_mba, sanitisation):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    fields = {f"lifecycle-{name}": value for name, value in sanitisation.items() if name != "verified"}

    response = _run_action(client, "lifecycle_sanitise", [device], apply="1", **fields)  # not verified

    assert response.status_code == 200
    assert "Only a verified wipe can be recorded" in response.content.decode()
    device.refresh_from_db()
    assert device.state == Device.State.RECEIVED
    assert not SanitisationRecord.objects.exists()


def test_a_refused_device_is_reported_with_the_reason_and_left_unchanged(client, hubs, staff_ke_mba):
    wiped, unwiped = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    device_through(wiped, "receive", "sanitise", actor=staff_ke_mba)
    device_through(unwiped, "receive", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    fields = {"lifecycle-passed": "true", "lifecycle-grade": "B", "lifecycle-note": "bulk"}

    response = _run_action(client, "lifecycle_inspect", [wiped, unwiped], apply="1", **fields)

    assert response.status_code == 302
    messages = _messages(client.get(reverse(CHANGELIST)))
    assert "Inspect: 1 device moved." in messages
    refusals = [m for m in messages if m.startswith("Inspect refused for")]
    assert len(refusals) == 1
    assert unwiped.serial_number in refusals[0]
    assert "has storage media that has not been sanitised" in refusals[0]
    wiped.refresh_from_db()
    unwiped.refresh_from_db()
    assert (wiped.state, wiped.grade) == (Device.State.INSPECTED, "B")
    assert (unwiped.state, unwiped.grade) == (Device.State.RECEIVED, "")
    assert not InspectionRecord.objects.filter(device=unwiped).exists()
    assert unwiped.events.count() == 2  # pledge, receive


def test_action_details_page_rescopes_crafted_ids_of_another_hub(client, hubs, staff_ke_mba, staff_be, sanitisation):
    theirs = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), "receive", actor=staff_be)
    client.force_login(staff_ke_mba)
    data = {"action": "lifecycle_sanitise", "_selected_action": [theirs.pk], "apply": "1"}
    data.update({f"lifecycle-{name}": value for name, value in sanitisation.items()})
    client.post(reverse(CHANGELIST), data)
    client.post(reverse(CHANGELIST), {**data, "select_across": "1"})
    theirs.refresh_from_db()
    assert theirs.state == Device.State.RECEIVED
    assert not SanitisationRecord.objects.exists()


def test_markup_in_a_refused_devices_name_is_escaped_in_the_admin_message(client, hubs, staff_ke_mba):
    pledged = DeviceFactory(donation__hub=hubs["KE-MBA"], manufacturer=MARKUP)
    client.force_login(staff_ke_mba)

    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "lifecycle_configure",
            "index": "0",
            "_selected_action": [pledged.pk],
            "apply": "1",
            "lifecycle-operating_system": "Ubuntu",
        },
        follow=True,
    )

    assert any("refused" in m and MARKUP in m for m in _messages(response))
    page = response.content.decode()
    assert MARKUP not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# The chain of custody


def test_device_events_cannot_be_added_changed_or_deleted_in_admin(client, hubs, superuser):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    event = device.events.get()
    client.force_login(superuser)
    change_url = reverse("admin:refurbishing_deviceevent_change", args=[event.pk])
    delete_url = reverse("admin:refurbishing_deviceevent_delete", args=[event.pk])

    view = client.get(change_url)
    assert view.status_code == 200
    assert not view.context["has_change_permission"]
    assert not view.context["has_delete_permission"]
    assert 'name="_save"' not in view.content.decode()
    assert client.post(change_url, {"note": "rewritten", "action": "receive"}).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:refurbishing_deviceevent_add")).status_code == 403
    response = client.post(
        reverse("admin:refurbishing_deviceevent_changelist"),
        {"action": "delete_selected", "index": "0", "_selected_action": [event.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)

    event.refresh_from_db()
    assert (event.note, event.action) == ("", "pledge")
    assert DeviceEvent.objects.count() == 1


def test_device_page_shows_history_read_only(client, hubs, staff_ke_mba):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)

    response = client.get(_device_change_url(device))

    assert response.status_code == 200
    page = response.content.decode()
    # A timeline in words, read-only: no form field for any event, no raw event data.
    assert "Pledged by the donor" in page
    assert "Received at the hub" in page
    assert "by staff-ke-mba at KE-MBA" in page
    assert 'name="events-0-note"' not in page
    assert "donation_id" not in page


def test_device_page_offers_the_allowed_actions_as_buttons(client, hubs, staff_ke_mba, sanitisation):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    page = client.get(_device_change_url(device)).content.decode()
    sanitise = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "sanitise"])
    assert f'href="{sanitise}"' in page
    assert reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "ship"]) not in page

    form = client.get(sanitise)
    assert form.status_code == 200
    data = {"action": "lifecycle_sanitise", "_selected_action": [device.pk], "apply": "1"}
    data.update({f"lifecycle-{name}": value for name, value in sanitisation.items()})
    response = client.post(sanitise, data)
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.state == Device.State.SANITISED
    assert device.events.order_by("-id").first().actor == staff_ke_mba


def test_device_page_actions_are_scoped_to_the_users_hubs(client, hubs, staff_be):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client.force_login(staff_be)
    url = reverse("admin:refurbishing_device_lifecycle", args=[device.pk, "receive"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"apply": "1"}).status_code == 404
    device.refresh_from_db()
    assert device.state == Device.State.PLEDGED


def test_labels_are_printed_from_the_device_list(client, hubs, staff_ke_mba):
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    for action in ("print_labels_a4", "print_labels_tape"):
        response = _run_action(client, action, devices)
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


# Query counts


def _changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return len(response.context["cl"].result_list), len(queries)


def test_device_changelist_runs_a_fixed_number_of_queries(client, hubs, staff_ke_mba):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    for _ in range(5):
        DeviceFactory(donation=DonationFactory(hub=hubs["KE-MBA"]))
    client.force_login(staff_ke_mba)
    rows_few, queries_few = _changelist_queries(client)

    for _ in range(45):
        DeviceFactory(donation=donation)
    rows_many, queries_many = _changelist_queries(client)

    assert (rows_few, rows_many) == (5, 50)
    assert queries_few == queries_many


def test_device_list_counts_at_most_the_cap_so_millions_of_rows_are_never_scanned(client, hubs, superuser):
    DeviceFactory.create_batch(7, donation__hub=hubs["KE-MBA"])
    client.force_login(superuser)
    with mock.patch.object(CappedCountPaginator, "cap", 5), CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/refurbishing/device/")
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts
    assert response.context["cl"].result_count == 5


def test_device_events_have_no_edit_or_delete_path_even_for_the_superuser(client, hubs, superuser):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    event = device.events.get()
    before = (event.action, event.to_state, event.note, event.occurred_at)
    client.force_login(superuser)
    change = reverse("admin:refurbishing_deviceevent_change", args=[event.pk])

    assert client.get(change).status_code == 200  # shown, read-only
    assert client.post(change, {"action": "receive", "to_state": "received", "note": "rewritten"}).status_code == 403
    delete = reverse("admin:refurbishing_deviceevent_delete", args=[event.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:refurbishing_deviceevent_add")).status_code == 403
    changelist = reverse("admin:refurbishing_deviceevent_changelist")
    listed = client.get(changelist)
    assert "delete_selected" not in listed.context["cl"].model_admin.get_actions(listed.wsgi_request)
    client.post(changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    # Nor through the device: its history is a read-only field, and a device is never deleted.
    assert client.get(reverse("admin:refurbishing_device_delete", args=[device.pk])).status_code == 403

    event.refresh_from_db()
    assert (event.action, event.to_state, event.note, event.occurred_at) == before
    assert DeviceEvent.objects.filter(device=device).count() == 1
