"""A donated laptop's whole journey, through the surfaces people use, and the public totals it moves."""

import pytest
from rest_framework.test import APIClient

from donations.services import donation_pledge, donor_sign_up
from impact.factories import OpeningBalanceFactory
from impact.models import Metric
from projects.factories import ProjectFactory

LAPTOPS = [
    {"category": "laptop", "manufacturer": "Lenovo", "model": "ThinkPad T480", "serial_number": f"PF-{n:04d}"}
    for n in range(3)
]


def public_totals(client):
    response = client.get("/api/v1/impact/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_cache")
def test_donor_to_beneficiary_journey_moves_public_totals_by_exactly_that(hubs, staff_ke_nbo, sanitisation):
    OpeningBalanceFactory(hub=hubs["KE-NBO"], metric=Metric.DEVICES_RECEIVED, value=1_000)
    project = ProjectFactory(
        hub=hubs["KE-NBO"], kind="education", name="Nairobi school lab", expected_beneficiaries=300
    )
    public = APIClient()
    before = public_totals(public)
    assert before["devices_received"] == 1_000

    donor, donor_user = donor_sign_up(
        legal_name="Acme Belgium NV",
        registration_number="BE0999999999",
        country="BE",
        address="Brussels",
        username="acme-it",
        email="it@acme.example",
        password="a-long-passphrase-42",
    )
    donation = donation_pledge(
        donor=donor, hub=hubs["KE-NBO"], pickup_address="Brussels", rows=LAPTOPS, actor=donor_user
    )
    assert donation.reference.startswith("DON-")

    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"username": "staff-ke-nbo", "password": "staff-ke-nbo"}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    devices = api.get("/api/v1/devices/", {"state": "pledged"}).json()["results"]
    assert len(devices) == 3

    steps = [
        {"action": "receive"},
        {"action": "sanitise", **sanitisation},
        {"action": "inspect", "passed": "true", "grade": "A"},
        {"action": "configure", "operating_system": "Windows 11 Pro", "licence": "microsoft_refurbisher"},
        {"action": "allocate", "project": project.pk},
    ]
    for device in devices:
        for step in steps:
            response = api.post(f"/api/v1/devices/{device['id']}/transitions/", step, format="json")
            assert response.status_code == 200, (step, response.json())
    # The hub puts the shipment together and ships it in one act.
    shipment = api.post("/api/v1/shipments/", {"project": project.pk, "carrier": "G4S"}, format="json")
    assert shipment.status_code == 201, shipment.json()
    assert len(shipment.json()["devices"]) == 3
    shipped = api.post(f"/api/v1/shipments/{shipment.json()['id']}/ship/", format="json")
    assert shipped.status_code == 200, shipped.json()
    assert {d["state"] for d in shipped.json()["devices"]} == {"shipped"}
    for n, device in enumerate(devices):
        body = {"action": "deliver", "beneficiaries": 40 + n}
        response = api.post(f"/api/v1/devices/{device['id']}/transitions/", body, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == "delivered"

    after = public_totals(public)
    assert after["devices_received"] - before["devices_received"] == 3
    assert after["devices_refurbished"] - before["devices_refurbished"] == 3
    assert after["devices_delivered"] - before["devices_delivered"] == 3
    assert after["beneficiaries_reached"] - before["beneficiaries_reached"] == 40 + 41 + 42
    nbo = next(h for h in after["by_hub"] if h["code"] == "KE-NBO")
    assert nbo["devices_delivered"] == 3
    education = next(k for k in after["by_project_kind"] if k["kind"] == "education")
    assert education["beneficiaries_reached"] == 123
    assert after["environment"]["co2e_avoided_by_reuse_kg"] == 3 * 69

    history = api.get(f"/api/v1/devices/{devices[0]['id']}/").json()
    assert [e["action"] for e in history["events"]] == [
        "pledge",
        "receive",
        "sanitise",
        "inspect",
        "configure",
        "allocate",
        "ship",
        "deliver",
    ]
