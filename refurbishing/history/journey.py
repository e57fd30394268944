"""A device's journey as its donor sees it: one dated sentence per move, with the hub.

One sentence per event, translated, naming the hub; never the event's raw data. An action this table does not
know yet is told as a plain move between two states, so a new lifecycle action never shows as code.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refurbishing.history.entries import TimelineEntry, state_label
from refurbishing.models import DeviceEvent, DeviceState, SanitisationRecord


def _weight(value: Any) -> str:
    try:
        return number_format(Decimal(str(value)), decimal_pos=1)
    except (InvalidOperation, ValueError):
        return ""


def _sanitise(event: DeviceEvent, hub: str, data: dict[str, Any]) -> str:
    method = data.get("method")
    partner = data.get("partner")
    if partner:
        if method in SanitisationRecord.Method.values:
            return _("Wiped and verified by %(partner)s for %(hub)s: %(method)s.") % {
                "partner": partner,
                "hub": hub,
                "method": SanitisationRecord.Method(method).label,
            }
        return _("Wiped and verified by %(partner)s for %(hub)s.") % {"partner": partner, "hub": hub}
    if method in SanitisationRecord.Method.values:
        return _("Data wiped and verified at %(hub)s: %(method)s.") % {
            "hub": hub,
            "method": SanitisationRecord.Method(method).label,
        }
    return _("Data wiped and verified at %(hub)s.") % {"hub": hub}


def _inspect(event: DeviceEvent, hub: str, data: dict[str, Any]) -> str:
    partner = data.get("partner")
    if partner:
        if event.to_state == DeviceState.TO_RECYCLE:
            return _("Tested by %(partner)s for %(hub)s: not fit for reuse, set aside for e-waste recycling.") % {
                "partner": partner,
                "hub": hub,
            }
        if data.get("grade"):
            return _("Tested by %(partner)s for %(hub)s: works, graded %(grade)s.") % {
                "partner": partner,
                "hub": hub,
                "grade": data["grade"],
            }
        return _("Tested by %(partner)s for %(hub)s: works.") % {"partner": partner, "hub": hub}
    if event.to_state == DeviceState.TO_RECYCLE:
        return _("Tested at %(hub)s: not fit for reuse, set aside for e-waste recycling.") % {"hub": hub}
    if data.get("grade"):
        return _("Tested at %(hub)s: works, graded %(grade)s.") % {"hub": hub, "grade": data["grade"]}
    return _("Tested at %(hub)s: works.") % {"hub": hub}


def _deliver(event: DeviceEvent, hub: str, data: dict[str, Any]) -> str:
    try:
        people = int(data.get("beneficiaries"))
    except (TypeError, ValueError):
        return _("Delivered to the project.")
    return ngettext(
        "Delivered to the project, where it reaches %(count)s person.",
        "Delivered to the project, where it reaches %(count)s people.",
        people,
    ) % {"count": number_format(people, force_grouping=True)}


def _recycle(event: DeviceEvent, hub: str, data: dict[str, Any]) -> str:
    weight = _weight(data.get("weight_kg"))
    if weight:
        return _("Handed over at %(hub)s for responsible e-waste recycling (%(weight)s kg).") % {
            "hub": hub,
            "weight": weight,
        }
    return _("Handed over at %(hub)s for responsible e-waste recycling.") % {"hub": hub}


def _configure(event: DeviceEvent, hub: str, data: dict[str, Any]) -> str:
    if data.get("partner"):
        return _("Refurbished by %(partner)s for %(hub)s: operating system and software installed.") % {
            "partner": data["partner"],
            "hub": hub,
        }
    return _("Refurbished at %(hub)s: operating system and software installed.") % {"hub": hub}


Sentence = Callable[[DeviceEvent, str, dict[str, Any]], str]
SENTENCES: dict[str, Sentence] = {
    "pledge": lambda event, hub, data: _("Pledged by the donor, to be received at %(hub)s.") % {"hub": hub},
    "receive": lambda event, hub, data: _("Received at %(hub)s.") % {"hub": hub},
    "mark_missing": lambda event, hub, data: _("Marked missing: it never arrived at %(hub)s.") % {"hub": hub},
    "sanitise": _sanitise,
    "inspect": _inspect,
    "configure": _configure,
    "allocate": lambda event, hub, data: _("Allocated to a project served by %(hub)s.") % {"hub": hub},
    "ship": lambda event, hub, data: _("Shipped from %(hub)s to the project.") % {"hub": hub},
    "deliver": _deliver,
    "recycle": _recycle,
    "transfer_ship": lambda event, hub, data: _("Sent from %(hub)s to another Close the Gap hub.") % {"hub": hub},
    "transfer_receive": lambda event, hub, data: _("Arrived at %(hub)s from another hub.") % {"hub": hub},
    "transfer_missing": lambda event, hub, data: _("Never arrived at %(hub)s from another hub.") % {"hub": hub},
}


def event_in_words(event: DeviceEvent) -> str:
    """The event as one sentence in the active language (``event.hub`` should be selected with it)."""
    hub = event.hub.name
    sentence = SENTENCES.get(event.action)
    if sentence is not None:
        return sentence(event, hub, dict(event.data or {}))
    return _("Moved from %(from)s to %(to)s at %(hub)s.") % {
        "from": state_label(event.from_state) if event.from_state else _("nothing"),
        "to": state_label(event.to_state),
        "hub": hub,
    }


def timeline(events: Iterable[DeviceEvent]) -> list[TimelineEntry]:
    """A device's journey, oldest first, for ``templates/refurbishing/_timeline.html``."""
    return [TimelineEntry(when=event.occurred_at, what=event_in_words(event), where=event.hub.code) for event in events]
