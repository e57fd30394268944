"""The impact admin: figures come from events, and only granted users edit the emission factors."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hubs.factories import UserFactory
from impact.models import EmissionFactor


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
