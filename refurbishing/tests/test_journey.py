"""A device's chain of custody told in words: every action a sentence, never raw data."""

import pytest

from refurbishing.factories import DeviceFactory, device_through
from refurbishing.history.journey import event_in_words, timeline
from refurbishing.models import DeviceEvent
from refurbishing.selectors import device_event_list
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


def test_every_step_reads_as_a_sentence_naming_the_hub(hubs, staff_be):
    device = device_through(DeviceFactory(), "receive", "sanitise", actor=staff_be)
    device_transition(device=device, action="inspect", actor=staff_be, record={"passed": False})
    device_transition(device=device, action="recycle", actor=staff_be, data={"weight_kg": "2.5"})

    entries = timeline(device_event_list(device=device))

    assert [entry.what for entry in entries] == [
        "Pledged by the donor, to be received at Hub BE-BRU.",
        "Received at Hub BE-BRU.",
        "Data wiped and verified at Hub BE-BRU: purge (secure erase, crypto erase, degauss).",
        "Tested at Hub BE-BRU: not fit for reuse, set aside for e-waste recycling.",
        "Handed over at Hub BE-BRU for responsible e-waste recycling (2.5 kg).",
    ]
    assert all(entry.where == "BE-BRU" for entry in entries)
    assert entries == sorted(entries, key=lambda entry: entry.when)


def test_delivery_says_how_many_people_it_reaches(hubs):
    event = DeviceEvent(action="deliver", to_state="delivered", hub=hubs["BE-BRU"], data={"beneficiaries": 1})
    assert event_in_words(event) == "Delivered to the project, where it reaches 1 person."
    event.data = {"beneficiaries": 1200}
    assert event_in_words(event) == "Delivered to the project, where it reaches 1,200 people."


def test_an_action_it_does_not_know_is_still_told_in_words(hubs):
    event = DeviceEvent(
        action="transfer", from_state="received", to_state="received", hub=hubs["KE-NBO"], data={"x": {"y": 1}}
    )
    words = event_in_words(event)
    assert words == "Moved from received to received at Hub KE-NBO."
    assert "{" not in words
