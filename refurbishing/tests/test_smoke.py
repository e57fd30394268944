import pytest

from refurbishing.errors import LifecycleError
from refurbishing.models import ProtectedStateError
from refurbishing.services import device_transition
from tests.factories import DeviceFactory


def test_full_path(staff_be, hubs, sanitisation):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    device_transition(device=device, action="receive", actor=staff_be)
    device_transition(device=device, action="sanitise", actor=staff_be, record=sanitisation)
    device_transition(device=device, action="inspect", actor=staff_be, record={"passed": True, "grade": "B"})
    assert device.state == "inspected"
    assert device.grade == "B"
    assert device.events.count() == 3
    with pytest.raises(ProtectedStateError):
        device.state = "shipped"
    with pytest.raises(LifecycleError, match="only a device that is configured"):
        device_transition(device=device, action="allocate", actor=staff_be, data={"project_id": 1})
