"""The impact admin: figures come from events, and only granted users edit the emission factors."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hubs.factories import UserFactory
from impact.models import EmissionFactor, YearlyReport
from refurbishing.factories import device_through


@pytest.mark.parametrize("url_name", ["admin:impact_impactcounter_add", "admin:impact_openingbalance_add"])
def test_hub_staff_cannot_add_impact_figures(client, staff_ke_mba, url_name):
    client.force_login(staff_ke_mba)

    assert client.get(reverse(url_name)).status_code == 403


def test_a_granted_communications_user_can_update_emission_factors_and_nobody_else(client, db):
    factor = EmissionFactor.objects.get(applies_to="laptop")
    url = f"/admin/impact/emissionfactor/{factor.pk}/change/"
    plain = UserFactory(username="plain-staff", is_staff=True)
    client.force_login(plain)
    assert client.get(url).status_code == 403
    comms = UserFactory(username="comms", is_staff=True)
    comms.user_permissions.add(Permission.objects.get(codename="change_emissionfactor"))
    client.force_login(comms)
    response = client.post(
        url,
        {
            "applies_to": "laptop",
            "label": "Laptop reused",
            "kg_co2e": "70",
            "source": "PUC Belgium 2027",
            "source_url": "",
        },
    )
    assert response.status_code == 302
    factor.refresh_from_db()
    assert (factor.kg_co2e, factor.source) == (70, "PUC Belgium 2027")


# --- Donors' yearly reports: read only, scoped like the other donor documents -----------------------------------


@pytest.fixture
def mombasa_report(donor_user, hubs):
    from impact.reports import yearly_report_current_year, yearly_report_issue

    from .yearly_data import hub_manager, register

    acme = donor_user.donors.get()
    manager = hub_manager(hubs["KE-MBA"], "manager-ke-mba")
    for device in register(acme, hubs["KE-MBA"], 2):
        device_through(device, "receive", actor=manager)
    return yearly_report_issue(donor=acme, year=yearly_report_current_year(), actor=None)


@pytest.mark.parametrize("who", ["superuser", "staff_ke_mba"])
def test_the_yearly_report_admin_lists_and_shows_a_report_and_offers_no_write(client, request, mombasa_report, who):
    client.force_login(request.getfixturevalue(who))
    changelist = client.get(reverse("admin:impact_yearlyreport_changelist"))
    assert changelist.status_code == 200
    assert mombasa_report.number in changelist.content.decode()
    assert changelist.context["has_add_permission"] is False
    assert reverse("admin:impact_yearlyreport_add") not in changelist.content.decode()

    change_url = reverse("admin:impact_yearlyreport_change", args=[mombasa_report.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert mombasa_report.number in html and mombasa_report.donor_name in html
    assert 'name="_save"' not in html
    assert reverse("admin:impact_yearlyreport_delete", args=[mombasa_report.pk]) not in html
    assert page.context["has_change_permission"] is False

    assert client.get(reverse("admin:impact_yearlyreport_add")).status_code == 403
    assert client.post(change_url, {"reason": "edited"}).status_code == 403
    delete_url = reverse("admin:impact_yearlyreport_delete", args=[mombasa_report.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk_delete = client.post(
        reverse("admin:impact_yearlyreport_changelist"),
        {"action": "delete_selected", "_selected_action": [mombasa_report.pk], "post": "yes"},
    )
    assert bulk_delete.status_code in (200, 302)  # no such action: the list comes back, nothing deleted
    assert YearlyReport.objects.filter(pk=mombasa_report.pk, reason="").exists()


def test_hub_staff_see_only_reports_of_donors_that_donated_to_their_hubs(client, staff_be, mombasa_report):
    client.force_login(staff_be)
    changelist = client.get(reverse("admin:impact_yearlyreport_changelist"))
    assert changelist.status_code == 200
    assert mombasa_report.number not in changelist.content.decode()
    assert client.get(reverse("admin:impact_yearlyreport_change", args=[mombasa_report.pk])).status_code == 404


def test_a_donor_user_does_not_reach_the_yearly_report_admin(client, donor_user, mombasa_report):
    client.force_login(donor_user)
    response = client.get(reverse("admin:impact_yearlyreport_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
