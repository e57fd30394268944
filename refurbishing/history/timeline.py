"""A device's chain of custody told in words: who did what, where and when, and the record behind each move.

The admin's device page and the scan station both show it; neither shows an event's raw data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from refurbishing.history.entries import TimelineEntry, state_label
from refurbishing.models import (
    ConfigurationRecord,
    Device,
    DeviceEvent,
    DeviceState,
    InspectionRecord,
    SanitisationRecord,
)
from refurbishing.selectors import device_event_list, device_records


def _what(event: DeviceEvent) -> str:
    if event.action == "inspect":
        if event.to_state == DeviceState.TO_RECYCLE:
            return _("Inspected: failed, to be recycled")
        return _("Inspected: passed")
    if event.action == "receive" and event.data.get("unexpected"):
        return _("Received at check-in, though it was not pledged")
    sentences = {
        "pledge": _("Pledged by the donor"),
        "receive": _("Received at the hub"),
        "mark_missing": _("Marked missing: it never arrived"),
        "sanitise": _("Storage media sanitised"),
        "configure": _("Configured"),
        "allocate": _("Allocated to a project"),
        "ship": pgettext("device history", "Shipped"),
        "deliver": _("Delivery confirmed"),
        "recycle": _("Handed over for e-waste recycling"),
        "transfer_ship": _("Sent to another hub"),
        "transfer_receive": _("Received from another hub"),
        "transfer_missing": _("Never arrived from another hub"),
    }
    if event.action in sentences:
        return sentences[event.action]
    return _("Moved from %(from)s to %(to)s (%(action)s)") % {
        "from": state_label(event.from_state) or "—",
        "to": state_label(event.to_state),
        "action": event.action.replace("_", " "),
    }


def _sanitisation_details(record: SanitisationRecord) -> list[str]:
    tool = f"{record.tool} {record.tool_version}".strip()
    return [
        _("Method: %(method)s") % {"method": record.get_method_display()},
        _("Technique: %(technique)s") % {"technique": record.technique},
        _("Tool: %(tool)s") % {"tool": tool},
        _("Verification: %(verification)s, passed") % {"verification": record.get_verification_display()},
    ]


def _inspection_details(record: InspectionRecord) -> list[str]:
    details = [_("Grade: %(grade)s") % {"grade": record.get_grade_display()}] if record.grade else []
    if record.notes:
        details.append(_("Findings: %(notes)s") % {"notes": record.notes})
    return details


def _configuration_details(record: ConfigurationRecord) -> list[str]:
    details = [_("System: %(system)s") % {"system": str(record)}]
    if record.keyboard_layout:
        details.append(_("Keyboard: %(layout)s") % {"layout": record.keyboard_layout})
    if record.language:
        details.append(_("Language: %(language)s") % {"language": record.language})
    details.append(_("Licence: %(licence)s") % {"licence": record.get_licence_display()})
    if record.notes:
        details.append(_("Notes: %(notes)s") % {"notes": record.notes})
    return details


def _figure_details(data: dict[str, Any]) -> list[str]:
    details = []
    if data.get("check_in"):
        details.append(_("Check-in of donation %(reference)s") % {"reference": data["check_in"]})
    if data.get("recycling_batch"):
        details.append(_("Recycling batch %(reference)s") % {"reference": data["recycling_batch"]})
    if data.get("weight_kg"):
        details.append(_("Weight: %(kg)s kg") % {"kg": data["weight_kg"]})
    if data.get("beneficiaries") is not None:
        details.append(_("People reached: %(count)s") % {"count": data["beneficiaries"]})
    if data.get("project_id"):
        details.append(_("Project no. %(id)s") % {"id": data["project_id"]})
    return details


# An event recorded this long after it happened says both times (a move queued offline and sent later).
RECORDED_LATER = timedelta(minutes=1)


def device_timeline(*, device: Device) -> list[TimelineEntry]:
    """The device's events, oldest first, each in a sentence with the record it wrote (a fixed few queries)."""
    records = device_records(device=device)
    entries = []
    for event in device_event_list(device=device):
        data = event.data if isinstance(event.data, dict) else {}
        details: list[str] = []
        record_id = data.get("sanitisation_record_id")
        if record_id in records["sanitisation"]:
            details += _sanitisation_details(records["sanitisation"][record_id])
        record_id = data.get("inspection_record_id")
        if record_id in records["inspection"]:
            details += _inspection_details(records["inspection"][record_id])
        record_id = data.get("configuration_record_id")
        if record_id in records["configuration"]:
            details += _configuration_details(records["configuration"][record_id])
        details += _figure_details(data)
        who = event.actor.get_full_name() or event.actor.get_username() if event.actor else _("the system")
        if data.get("partner"):
            # The custody record names both: the person, and the partner they worked for under a work order.
            who = _("%(person)s, of %(partner)s (work order WO-%(order)s)") % {
                "person": who,
                "partner": data["partner"],
                "order": data.get("work_order_id", "?"),
            }
        entries.append(
            TimelineEntry(
                when=event.occurred_at,
                what=_what(event),
                who=who,
                where=event.hub.code,
                details=details,
                note=event.note,
                recorded=event.recorded_at if event.recorded_at - event.occurred_at > RECORDED_LATER else None,
            )
        )
    return entries
