"""Where delivered devices went, told by the app that owns projects.

The core knows from each delivery event which project a device reached, but not what a project is: ``projects``
registers a describer at start-up (as it registers its actions), so the donor side can show a device's
destination without importing ``projects`` and the core imports neither.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .selectors import device_delivery_project_ids


@dataclass(frozen=True)
class Destination:
    """What a donor may know of the project a device reached: never a beneficiary's personal data."""

    kind: str
    kind_label: str
    country: str
    # Only for projects that agreed to be shown publicly (``Project.public``).
    public_name: str = ""
    public_url: str = ""


ProjectDescriber = Callable[[set[int]], dict[int, Destination]]
_describer: list[ProjectDescriber] = []


def register_project_describer(describer: ProjectDescriber) -> None:
    """Let the app that owns projects say what a donor may see of each (one describer; the last one wins)."""
    _describer[:] = [describer]


def device_destinations(*, device_ids: Iterable[int]) -> dict[int, Destination]:
    """The destination of each delivered device among ``device_ids`` (two queries: events, then projects)."""
    project_ids = device_delivery_project_ids(device_ids=device_ids)
    if not project_ids or not _describer:
        return {}
    projects = _describer[0](set(project_ids.values()))
    return {device_id: projects[pid] for device_id, pid in project_ids.items() if pid in projects}
