"""The admin site as a whole: every app's pages open for hub staff and for a superuser."""

import pytest
from django.urls import reverse

from impact.reports import yearly_report_current_year, yearly_report_issue
from projects.factories import ProjectFactory
from projects.services import project_allocate_device, shipment_create
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through

ADMIN_MODELS = [
    "hubs_hub",
    "hubs_hubkind",
    "hubs_hubmembership",
    "donations_donor",
    "donations_donation",
    "donations_eresourcecommitment",
    "donations_eresourceallocation",
    "refurbishing_device",
    "refurbishing_deviceevent",
    "projects_project",
    "projects_devicerequest",
    "projects_shipment",
    "impact_openingbalance",
    "impact_impactcounter",
    "impact_emissionfactor",
    "impact_yearlyreport",
]


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_every_admin_page_opens(client, hubs, staff_ke_mba, superuser, who):
    user = staff_ke_mba if who == "staff" else superuser
    project = ProjectFactory(hub=hubs["KE-MBA"])
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), *TO_CONFIGURED, actor=staff_ke_mba)
    project_allocate_device(device=device, project=project, actor=staff_ke_mba)
    objects = {
        "hubs_hub": hubs["KE-MBA"],
        "hubs_hubkind": hubs["KE-MBA"].kind,
        "hubs_hubmembership": staff_ke_mba.hub_memberships.get(),
        "donations_donor": device.donation.donor,
        "donations_donation": device.donation,
        "refurbishing_device": device,
        "refurbishing_deviceevent": device.events.first(),
        "projects_project": project,
        "projects_shipment": shipment_create(project=project, actor=staff_ke_mba),
        "impact_yearlyreport": yearly_report_issue(
            donor=device.donation.donor, year=yearly_report_current_year(), actor=None
        ),
    }
    client.force_login(user)

    assert client.get(reverse("admin:index")).status_code == 200
    for name in ADMIN_MODELS:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        if name in objects:
            assert client.get(reverse(f"admin:{name}_change", args=[objects[name].pk])).status_code == 200, name
    users = client.get(reverse("admin:auth_user_changelist")).status_code
    assert users == (200 if who == "superuser" else 403)
    if who == "superuser":  # the user page carries the hub memberships
        page = client.get(reverse("admin:auth_user_change", args=[staff_ke_mba.pk]))
        assert "KE-MBA" in page.content.decode()
