"""`configure` records what was installed, and the lifecycle refuses it without that record."""

import pytest
from django.urls import reverse

from refurbishing.errors import LifecycleError
from refurbishing.factories import CONFIGURATION, DeviceFactory, device_through
from refurbishing.models import ConfigurationRecord, Device
from refurbishing.services import device_transition


@pytest.fixture
def inspected(hubs, staff_ke_mba):
    return device_through(
        DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", "sanitise", "inspect", actor=staff_ke_mba
    )


def test_configure_writes_its_record_and_the_event_points_to_it(inspected, staff_ke_mba):
    record = {**CONFIGURATION, "licence": "microsoft_refurbisher", "notes": "Office LTSC, school image v3"}
    device_transition(device=inspected, action="configure", actor=staff_ke_mba, record=record)
    configuration = ConfigurationRecord.objects.get(device=inspected)
    assert (
        configuration.operating_system,
        configuration.os_version,
        configuration.keyboard_layout,
        configuration.language,
        configuration.licence,
        configuration.notes,
        configuration.configured_by,
    ) == ("Ubuntu", "24.04 LTS", "US", "English", "microsoft_refurbisher", "Office LTSC, school image v3", staff_ke_mba)
    event = inspected.events.get(action="configure")
    assert event.data["configuration_record_id"] == configuration.pk
    assert configuration.configured_at == event.occurred_at


@pytest.mark.parametrize("record", [None, {}, {"operating_system": "  "}, {"os_version": "11"}])
def test_configure_without_the_system_installed_is_refused(inspected, staff_ke_mba, record):
    with pytest.raises(LifecycleError, match="needs what was installed") as refused:
        device_transition(device=inspected, action="configure", actor=staff_ke_mba, record=record)
    assert "operating_system" in refused.value.field_errors
    assert Device.objects.get(pk=inspected.pk).state == Device.State.INSPECTED
    assert not ConfigurationRecord.objects.exists()


def test_configure_is_recorded_by_a_person(inspected):
    with pytest.raises(LifecycleError, match="must be recorded by the person who did it"):
        device_transition(device=inspected, action="configure", actor=None, record=CONFIGURATION)


def test_the_api_asks_for_the_system_and_takes_the_licence(inspected, staff_ke_mba, token_client):
    api = token_client(staff_ke_mba)
    url = reverse("api-device-transitions", args=[inspected.pk])
    refused = api.post(url, {"action": "configure"}, format="json")
    assert refused.status_code == 400
    assert "operating_system" in refused.json()["errors"]
    bad_licence = api.post(url, {"action": "configure", "operating_system": "Windows 11", "licence": "pirated"})
    assert bad_licence.status_code == 400
    assert "licence" in bad_licence.json()["errors"]
    done = api.post(
        url,
        {"action": "configure", "operating_system": "Windows 11 Pro", "os_version": "23H2", "keyboard_layout": "UK"},
        format="json",
    )
    assert done.status_code == 200
    assert done.json()["state"] == "configured"
    assert ConfigurationRecord.objects.get(device=inspected).licence == "none"  # none said: none
