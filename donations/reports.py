"""What the donor's exports and asset reports say about each device, in the active language."""

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from refurbishing.models import Device, DeviceState

OUTCOMES = {
    DeviceState.DELIVERED: pgettext_lazy("device outcome", "reused"),
    DeviceState.RECYCLED: pgettext_lazy("device outcome", "recycled"),
    DeviceState.MISSING: pgettext_lazy("device outcome", "missing"),
}
IN_PROGRESS = pgettext_lazy("device outcome", "in progress")


def device_outcome(device: Device) -> str:
    """Reused (delivered to a project), recycled, missing, or still in progress."""
    return str(OUTCOMES.get(device.state, IN_PROGRESS))


# What the donor's sustainability reporting reads: the WEEE category, the weight and where the weight comes from.
WEIGHT_HEADER = (
    gettext_lazy("WEEE category"),
    gettext_lazy("Weight (kg)"),
    gettext_lazy("Weight basis"),
)


def weight_cells(device: Device) -> list[Any]:
    """The device's WEEE category (1 to 6), its weight in kg and where the weight comes from, in words."""
    return [
        device.weee_category or "",
        device.weight_kg if device.weight_kg is not None else "",
        device.get_weight_basis_display() if device.weight_basis else "",
    ]


DEVICE_LIST_HEADER = (
    gettext_lazy("Donation"),
    gettext_lazy("Category"),
    gettext_lazy("Manufacturer"),
    pgettext_lazy("device model", "Model"),
    gettext_lazy("Serial number"),
    gettext_lazy("Asset tag"),
    gettext_lazy("Storage media"),
    pgettext_lazy("device lifecycle state", "State"),
    gettext_lazy("Grade"),
    gettext_lazy("Hub"),
    gettext_lazy("Since"),
    *WEIGHT_HEADER,
)


def device_list_rows(devices: Iterable[Device]) -> Iterator[list[Any]]:
    """One row per device for the CSV and XLSX device lists (``devices`` from ``device_list_for_user``)."""
    yes, no = _("yes"), _("no")
    for device in devices:
        yield [
            device.donation.reference,
            device.get_category_display(),
            device.manufacturer,
            device.model,
            device.serial_number,
            device.asset_tag,
            yes if device.has_storage_media else no,
            device.get_state_display(),
            device.grade,
            device.hub.code,
            device.last_moved_at,
            *weight_cells(device),
        ]


ASSET_REPORT_HEADER = (
    gettext_lazy("Category"),
    gettext_lazy("Manufacturer"),
    pgettext_lazy("device model", "Model"),
    gettext_lazy("Serial number"),
    gettext_lazy("Asset tag"),
    gettext_lazy("Grade"),
    gettext_lazy("Outcome"),
    pgettext_lazy("device lifecycle state", "State"),
    gettext_lazy("Date"),
    *WEIGHT_HEADER,
)


def asset_report_rows(devices: Iterable[Device]) -> Iterator[list[Any]]:
    """One row per device of a donation: grade, outcome (reused, recycled, missing) and the date it was reached."""
    for device in devices:
        yield [
            device.get_category_display(),
            device.manufacturer,
            device.model,
            device.serial_number,
            device.asset_tag,
            device.grade,
            device_outcome(device),
            device.get_state_display(),
            device.last_moved_at,
            *weight_cells(device),
        ]
