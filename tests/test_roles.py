"""The role matrix: who may see and do what, on every surface (admin, API, scan station, pages).

Seven people: a technician and a manager of KE-MBA, a technician of another hub (BE-BRU), a user of a refurbishment
partner (Flection) with an open work order from KE-MBA, a donor, a project coordinator, and someone signed out. The
objects all belong to KE-MBA (and to the donor and the coordinator); one device of KE-MBA is assigned to the partner's
work order, for sanitising only. The partner reaches that device and its order, and nothing else.
Outside a person's scope the object does not exist (404); where they may see it but not do the action, 403.
Non-staff never reach the admin (its login page) nor the scan station; signed-out API callers get 401.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from donations.factories import DonationFactory
from donations.models import Donor
from hubs.models import HubMembership, Partner
from projects.factories import ProjectFactory
from projects.models import Project
from refurbishing.factories import SANITISATION, DeviceFactory
from refurbishing.models import Device
from refurbishing.services import device_transition
from refurbishing.work_orders.services import work_order_create

ROLES = ("technician", "manager", "other_hub", "partner", "donor", "coordinator", "anonymous")
LOGIN = "login"  # a redirect to a sign-in page


@pytest.fixture
def world(hubs, staff_ke_mba, manager_ke_mba, staff_be, partner_user, donor_user, coordinator):
    donation = DonationFactory(hub=hubs["KE-MBA"], donor=Donor.objects.get(users=donor_user))
    device = DeviceFactory(donation=donation)
    assigned = device_transition(device=DeviceFactory(donation=donation), action="receive", actor=None)
    work_order = work_order_create(
        actor=manager_ke_mba,
        hub=hubs["KE-MBA"],
        partner=Partner.objects.get(users=partner_user),
        steps=["sanitise"],
        due_on=timezone.localdate(),
        devices=[assigned],
    )
    project = ProjectFactory(hub=hubs["KE-MBA"], status=Project.Status.SUBMITTED)
    project.coordinators.add(coordinator)
    people = {
        "technician": staff_ke_mba,
        "manager": manager_ke_mba,
        "other_hub": staff_be,
        "partner": partner_user,
        "donor": donor_user,
        "coordinator": coordinator,
        "anonymous": None,
    }
    return {
        "hubs": hubs,
        "donation": donation,
        "device": device,
        "assigned": assigned,
        "work_order": work_order,
        "project": project,
        "membership": HubMembership.objects.get(user=staff_ke_mba, hub=hubs["KE-MBA"]),
        "people": people,
        "coordinator": coordinator,
    }


def _client(world, role: str) -> APIClient:
    client = APIClient()
    user = world["people"][role]
    if user is not None:
        client.force_login(user)
    return client


def _api_client(world, role: str) -> APIClient:
    client = APIClient()
    user = world["people"][role]
    if user is not None:
        client.force_authenticate(user)
    return client


# Each surface: how to reach it, and what each role gets.


def admin_device_page(client, world):
    return client.get(reverse("admin:refurbishing_device_change", args=[world["device"].pk]))


def admin_membership_page(client, world):
    return client.get(reverse("admin:hubs_hubmembership_change", args=[world["membership"].pk]))


def admin_membership_role_change(client, world):
    url = reverse("admin:hubs_hubmembership_change", args=[world["membership"].pk])
    return client.post(url, {"role": HubMembership.Role.MANAGER})


def admin_membership_add(client, world):
    url = reverse("admin:hubs_hubmembership_add")
    return client.post(
        url, {"person": world["coordinator"].username, "hub": world["hubs"]["KE-MBA"].pk, "role": "technician"}
    )


def admin_membership_delete(client, world):
    url = reverse("admin:hubs_hubmembership_delete", args=[world["membership"].pk])
    return client.post(url, {"post": "yes"})


def api_device_detail(client, world):
    return client.get(f"/api/v1/devices/{world['device'].pk}/")


def api_device_transition(client, world):
    return client.post(f"/api/v1/devices/{world['device'].pk}/transitions/", {"action": "receive"}, format="json")


def scan_device_card(client, world):
    return client.get(reverse("scan:device", args=[world["device"].label_code]))


def scan_device_action(client, world):
    return client.post(reverse("scan:device-action", args=[world["device"].label_code, "receive"]), {})


def donor_donation_page(client, world):
    return client.get(reverse("donations:detail", args=[world["donation"].reference]))


def coordinator_project_page(client, world):
    return client.get(reverse("projects:project", args=[world["project"].pk]))


def hub_application_page(client, world):
    return client.get(reverse("projects:hub-review", args=[world["project"].pk]))


def hub_application_review(client, world):
    url = reverse("projects:hub-review", args=[world["project"].pk])
    return client.post(url, {"decision": Project.Status.APPROVED, "reason": ""})


def admin_assigned_device_page(client, world):
    return client.get(reverse("admin:refurbishing_device_change", args=[world["assigned"].pk]))


def admin_work_order_page(client, world):
    return client.get(reverse("admin:refurbishing_workorder_change", args=[world["work_order"].pk]))


def api_assigned_device_detail(client, world):
    return client.get(f"/api/v1/devices/{world['assigned'].pk}/")


def api_assigned_device_sanitise(client, world):
    url = f"/api/v1/devices/{world['assigned'].pk}/transitions/"
    return client.post(url, {"action": "sanitise", **SANITISATION}, format="json")


def api_assigned_device_inspect(client, world):
    """A step outside the partner's order (and, for hub staff, a device still to be wiped): refused."""
    url = f"/api/v1/devices/{world['assigned'].pk}/transitions/"
    return client.post(url, {"action": "inspect", "passed": True, "grade": "A"}, format="json")


def api_work_order_close(client, world):
    return client.post(f"/api/v1/work-orders/{world['work_order'].pk}/close/")


def scan_assigned_device_card(client, world):
    return client.get(reverse("scan:device", args=[world["assigned"].label_code]))


NO_ADMIN = {"donor": LOGIN, "coordinator": LOGIN, "anonymous": LOGIN}
NO_SCAN = {"donor": 404, "coordinator": 404, "anonymous": LOGIN}
NO_API = {"donor": 404, "coordinator": 404, "anonymous": 401}
NO_HUB_PAGE = {"donor": 404, "coordinator": 404, "anonymous": LOGIN}

MATRIX: list[tuple[Callable[..., Any], dict[str, int | str], str]] = [
    (admin_device_page, {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_ADMIN}, "session"),
    (
        admin_membership_page,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_ADMIN},
        "session",
    ),
    (
        admin_membership_role_change,
        {"technician": 403, "manager": 302, "other_hub": 404, "partner": 404, **NO_ADMIN},
        "session",
    ),
    (
        admin_membership_add,
        {"technician": 403, "manager": 302, "other_hub": 403, "partner": 403, **NO_ADMIN},
        "session",
    ),
    (
        admin_membership_delete,
        {"technician": 403, "manager": 302, "other_hub": 404, "partner": 404, **NO_ADMIN},
        "session",
    ),
    (api_device_detail, {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_API}, "token"),
    (api_device_transition, {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_API}, "token"),
    (scan_device_card, {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_SCAN}, "session"),
    (scan_device_action, {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_SCAN}, "session"),
    (
        donor_donation_page,
        {
            "technician": 404,
            "manager": 404,
            "other_hub": 404,
            "partner": 404,
            "donor": 200,
            "coordinator": 404,
            "anonymous": LOGIN,
        },
        "session",
    ),
    (
        coordinator_project_page,
        {
            "technician": 404,
            "manager": 404,
            "other_hub": 404,
            "partner": 404,
            "donor": 404,
            "coordinator": 200,
            "anonymous": LOGIN,
        },
        "session",
    ),
    (
        hub_application_page,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 404, **NO_HUB_PAGE},
        "session",
    ),
    (
        admin_assigned_device_page,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 200, **NO_ADMIN},
        "session",
    ),
    (
        admin_work_order_page,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 200, **NO_ADMIN},
        "session",
    ),
    (
        api_assigned_device_detail,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 200, **NO_API},
        "token",
    ),
    (
        api_assigned_device_sanitise,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 200, **NO_API},
        "token",
    ),
    (
        api_assigned_device_inspect,
        {"technician": 400, "manager": 400, "other_hub": 404, "partner": 403, **NO_API},
        "token",
    ),
    (api_work_order_close, {"technician": 403, "manager": 200, "other_hub": 404, "partner": 403, **NO_API}, "token"),
    (
        scan_assigned_device_card,
        {"technician": 200, "manager": 200, "other_hub": 404, "partner": 200, **NO_SCAN},
        "session",
    ),
    (
        hub_application_review,
        {"technician": 403, "manager": 302, "other_hub": 404, "partner": 404, **NO_HUB_PAGE},
        "session",
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("surface", "expected", "kind"), MATRIX, ids=[surface.__name__ for surface, *_ in MATRIX])
def test_role_matrix(world, surface, expected, kind, role):
    client = _api_client(world, role) if kind == "token" else _client(world, role)

    response = surface(client, world)

    wanted = expected[role]
    if wanted == LOGIN:
        assert response.status_code == 302, response.status_code
        assert "login" in response["Location"]
    else:
        assert response.status_code == wanted, (response.status_code, getattr(response, "content", b"")[:300])


def test_a_refused_action_changes_nothing(world):
    """The 403s and 404s above left the device, the membership and the application as they were."""
    for role in ("technician", "other_hub", "partner", "donor", "coordinator", "anonymous"):
        for surface in (api_device_transition, scan_device_action, admin_membership_role_change):
            client = _api_client(world, role) if surface is api_device_transition else _client(world, role)
            if role == "technician" and surface is not admin_membership_role_change:
                continue  # a technician may move the device: that is not a refusal
            surface(client, world)
        hub_application_review(_client(world, role), world)
        # A step outside the partner's order, and a close by anyone but the hub's manager, are refused too.
        api_assigned_device_inspect(_api_client(world, role), world)
        api_work_order_close(_api_client(world, role), world)

    assigned = Device.objects.get(pk=world["assigned"].pk)
    assert (assigned.state, assigned.events.count()) == (Device.State.RECEIVED, 2)
    assert not assigned.inspection_records.exists()
    world["work_order"].refresh_from_db()
    assert world["work_order"].status == "open"
    device = Device.objects.get(pk=world["device"].pk)
    assert (device.state, device.events.count()) == (Device.State.PLEDGED, 1)
    assert HubMembership.objects.get(pk=world["membership"].pk).role == HubMembership.Role.TECHNICIAN
    assert Project.objects.get(pk=world["project"].pk).status == Project.Status.SUBMITTED


def test_a_manager_adds_changes_and_removes_members_of_their_hub_only(world, client):
    manager, hubs = world["people"]["manager"], world["hubs"]
    client.force_login(manager)
    add = reverse("admin:hubs_hubmembership_add")

    # The hub choices are the hubs they manage: another hub is not offered, and a post naming it is refused.
    page = client.get(add)
    assert [hub.code for hub in page.context["adminform"].form.fields["hub"].queryset] == ["KE-MBA"]
    response = client.post(add, {"person": "coordinator-wanjiru", "hub": hubs["BE-BRU"].pk, "role": "technician"})
    assert response.status_code == 200
    assert not HubMembership.objects.filter(user=world["coordinator"]).exists()

    # Adding by e-mail address works too, and the person becomes staff.
    response = client.post(add, {"person": "wanjiru.private@example.org", "hub": hubs["KE-MBA"].pk, "role": "manager"})
    assert response.status_code == 302
    added = HubMembership.objects.get(user=world["coordinator"])
    assert (added.hub, added.role) == (hubs["KE-MBA"], "manager")
    world["coordinator"].refresh_from_db()
    assert world["coordinator"].is_staff

    # Their own membership they cannot change (another manager or the platform admin does).
    own = HubMembership.objects.get(user=manager, hub=hubs["KE-MBA"])
    response = client.post(reverse("admin:hubs_hubmembership_change", args=[own.pk]), {"role": "technician"})
    assert response.status_code == 403
    assert HubMembership.objects.get(pk=own.pk).role == "manager"

    # Memberships elsewhere are not listed.
    listed = client.get(reverse("admin:hubs_hubmembership_changelist")).context["cl"].result_list
    assert {m.hub.code for m in listed} == {"KE-MBA"}


def test_a_write_that_would_leave_the_users_scope_is_rolled_back(world, monkeypatch):
    """After the move the device must still be at a hub the person acts for; if not, nothing is kept (403)."""
    import refurbishing.api

    perform = refurbishing.api.device_perform_action
    elsewhere = world["hubs"]["ZA-JNB"]

    def move_and_carry_away(**kwargs):
        # A service that (wrongly) left the device at a hub the caller does not work at.
        device = perform(**kwargs)
        Device.objects.filter(pk=device.pk).update(hub=elsewhere)
        return device

    monkeypatch.setattr(refurbishing.api, "device_perform_action", move_and_carry_away)
    response = _api_client(world, "technician").post(
        f"/api/v1/devices/{world['device'].pk}/transitions/", {"action": "receive"}, format="json"
    )

    assert response.status_code == 403
    device = Device.objects.get(pk=world["device"].pk)
    assert (device.state, device.hub, device.events.count()) == (Device.State.PLEDGED, world["hubs"]["KE-MBA"], 1)


def test_a_manager_invites_someone_without_an_account_who_then_joins_the_hub(
    world, client, mailoutbox, django_capture_on_commit_callbacks
):
    from hubs.accounts import invitation_accept_new_account, invitation_from_token

    manager, hub = world["people"]["manager"], world["hubs"]["KE-MBA"]
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:hubs_hubmembership_add"),
            {"person": "new.tech@example.org", "hub": hub.pk, "role": "manager"},
        )

    assert response.status_code == 302
    assert not HubMembership.objects.filter(user__email="new.tech@example.org").exists()  # not until accepted
    (mail,) = mailoutbox
    assert mail.to == ["new.tech@example.org"]
    token = mail.body.split("/invitation/")[1].split("/")[0]
    user = invitation_accept_new_account(invitation=invitation_from_token(token=token), password="a-long-passphrase-1")
    membership = HubMembership.objects.get(user=user)
    assert (membership.hub, membership.role, user.is_staff) == (hub, "manager", True)


def test_only_a_manager_of_the_hub_can_invite_to_it(world):
    from hubs.services import HubError, hub_member_invite

    for role in ("technician", "other_hub"):
        with pytest.raises(HubError):
            hub_member_invite(actor=world["people"][role], hub=world["hubs"]["KE-MBA"], email="x@example.org")
