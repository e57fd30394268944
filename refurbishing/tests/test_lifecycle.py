"""The lifecycle service: every allowed move, every refused one with its message, and the guards."""

from decimal import Decimal

import pytest

from refurbishing.errors import LifecycleError
from refurbishing.lifecycle import ACTIONS, TRANSITIONS, actions_from, mermaid_diagram
from refurbishing.models import Device, DeviceEvent, ProtectedStateError
from refurbishing.services import device_transition, device_update
from tests.factories import DeviceFactory, ProjectFactory

S = Device.State
PASS_B = {"passed": True, "grade": "B"}

# How to bring a device (with storage media) to each state, from pledged, as (action, kwargs) steps.
PATHS = {
    S.PLEDGED: [],
    S.RECEIVED: [("receive", {})],
    S.MISSING: [("mark_missing", {})],
    S.SANITISED: [("receive", {}), ("sanitise", {"record": "SANITISATION"})],
    S.INSPECTED: [("receive", {}), ("sanitise", {"record": "SANITISATION"}), ("inspect", {"record": PASS_B})],
    S.TO_RECYCLE: [
        ("receive", {}),
        ("sanitise", {"record": "SANITISATION"}),
        ("inspect", {"record": {"passed": False}}),
    ],
}
PATHS[S.CONFIGURED] = [*PATHS[S.INSPECTED], ("configure", {})]
PATHS[S.ALLOCATED] = [*PATHS[S.CONFIGURED], ("allocate", {"data": "PROJECT"})]
PATHS[S.SHIPPED] = [*PATHS[S.ALLOCATED], ("ship", {})]
PATHS[S.DELIVERED] = [*PATHS[S.SHIPPED], ("deliver", {"data": {"beneficiaries": 25}})]
PATHS[S.RECYCLED] = [*PATHS[S.TO_RECYCLE], ("recycle", {"data": {"weight_kg": "2.5"}})]


def _resolve(kwargs, sanitisation, project):
    resolved = dict(kwargs)
    if resolved.get("record") == "SANITISATION":
        resolved["record"] = sanitisation
    if resolved.get("data") == "PROJECT":
        resolved["data"] = {"project_id": project.pk, "project_kind": project.kind}
    return resolved


def bring_to(state, *, actor, sanitisation, project, **device_kwargs):
    device = DeviceFactory(donation__hub=project.hub, **device_kwargs)
    for action, kwargs in PATHS[state]:
        device_transition(device=device, action=action, actor=actor, **_resolve(kwargs, sanitisation, project))
    assert device.state == state
    return device


@pytest.fixture
def project(hubs):
    return ProjectFactory(hub=hubs["BE-BRU"])


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: f"{t.action}-{t.outcome or t.target}")
def test_every_allowed_transition(transition, staff_be, sanitisation, project):
    for source in transition.sources:
        has_storage = not (transition.action == "inspect" and source == S.RECEIVED)
        device = bring_to(
            source if has_storage else S.RECEIVED,
            actor=staff_be,
            sanitisation=sanitisation,
            project=project,
            has_storage_media=has_storage,
        )
        kwargs = {}
        if transition.action == "sanitise":
            kwargs["record"] = sanitisation
        elif transition.action == "inspect":
            kwargs["record"] = PASS_B if transition.outcome == "pass" else {"passed": False}
        elif transition.action == "allocate":
            kwargs["data"] = {"project_id": project.pk, "project_kind": project.kind}
        elif transition.action == "deliver":
            kwargs["data"] = {"beneficiaries": 7}
        elif transition.action == "recycle":
            kwargs["data"] = {"weight_kg": Decimal("3.10")}
        events_before = DeviceEvent.objects.filter(device=device).count()
        device_transition(device=device, action=transition.action, actor=staff_be, note="checked", **kwargs)
        assert device.state == transition.target
        event = device.events.order_by("-id").first()
        assert DeviceEvent.objects.filter(device=device).count() == events_before + 1
        assert (event.from_state, event.to_state, event.action) == (source, transition.target, transition.action)
        assert event.actor == staff_be
        assert event.hub == device.hub
        assert event.note == "checked"


def _forbidden_pairs():
    for state in S:
        for action in ACTIONS:
            if action not in actions_from(state):
                yield state, action


@pytest.mark.parametrize(("state", "action"), list(_forbidden_pairs()))
def test_every_forbidden_transition_is_refused_with_its_reason(state, action, staff_be, sanitisation, project):
    device = bring_to(state, actor=staff_be, sanitisation=sanitisation, project=project)
    events_before = device.events.count()
    with pytest.raises(LifecycleError) as refused:
        device_transition(
            device=device,
            action=action,
            actor=staff_be,
            record=sanitisation if action == "sanitise" else PASS_B,
            data={"project_id": project.pk, "beneficiaries": 1, "weight_kg": "1"},
        )
    assert f"it is {S(state).label}" in refused.value.message
    assert refused.value.code == "invalid"
    device.refresh_from_db()
    assert device.state == state
    assert device.events.count() == events_before


def test_unknown_action_is_refused(staff_be, sanitisation, project):
    device = bring_to(S.PLEDGED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="'polish' is not a device action"):
        device_transition(device=device, action="polish", actor=staff_be)


def test_nothing_with_storage_leaves_without_a_sanitisation_record(staff_be, project):
    # A device registered without storage, inspected directly, then found to have a disk: the record is missing.
    device = DeviceFactory(donation__hub=project.hub, has_storage_media=False)
    device_transition(device=device, action="receive", actor=staff_be)
    device_transition(device=device, action="inspect", actor=staff_be, record=PASS_B)
    device_transition(device=device, action="configure", actor=staff_be)
    device = device_update(device=device, actor=staff_be, fields={"has_storage_media": True})
    with pytest.raises(LifecycleError, match="no verified sanitisation record"):
        device_transition(device=device, action="allocate", actor=staff_be, data={"project_id": project.pk})
    assert Device.objects.get(pk=device.pk).state == S.CONFIGURED


def test_recycling_storage_media_needs_a_sanitisation_record(staff_be, project):
    device = DeviceFactory(donation__hub=project.hub, has_storage_media=False)
    device_transition(device=device, action="receive", actor=staff_be)
    device_transition(device=device, action="inspect", actor=staff_be, record={"passed": False})
    device = device_update(device=device, actor=staff_be, fields={"has_storage_media": True})
    with pytest.raises(LifecycleError, match="cannot recycle until its data is wiped"):
        device_transition(device=device, action="recycle", actor=staff_be, data={"weight_kg": "2"})


def test_device_without_storage_skips_sanitising(staff_be, sanitisation, project):
    device = DeviceFactory(donation__hub=project.hub, has_storage_media=False, category="monitor")
    device_transition(device=device, action="receive", actor=staff_be)
    with pytest.raises(LifecycleError, match="no storage media, so there is nothing to wipe"):
        device_transition(device=device, action="sanitise", actor=staff_be, record=sanitisation)
    device_transition(device=device, action="inspect", actor=staff_be, record=PASS_B)
    device_transition(device=device, action="configure", actor=staff_be)
    device_transition(device=device, action="allocate", actor=staff_be, data={"project_id": project.pk})
    assert device.state == S.ALLOCATED


def test_device_with_storage_cannot_skip_sanitising(staff_be, project):
    device = DeviceFactory(donation__hub=project.hub)
    device_transition(device=device, action="receive", actor=staff_be)
    with pytest.raises(LifecycleError, match="has not been sanitised"):
        device_transition(device=device, action="inspect", actor=staff_be, record=PASS_B)


def test_unverified_wipe_is_refused(staff_be, sanitisation, project):
    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="not verified") as refused:
        device_transition(device=device, action="sanitise", actor=staff_be, record=sanitisation | {"verified": False})
    assert "verified" in refused.value.field_errors
    assert device.sanitisation_records.count() == 0


def test_failed_inspection_leads_only_to_recycling(staff_be, sanitisation, project):
    device = bring_to(S.TO_RECYCLE, actor=staff_be, sanitisation=sanitisation, project=project)
    assert device.grade == ""
    assert actions_from(device.state) == ["recycle"]
    for action in ("configure", "allocate", "ship", "deliver"):
        with pytest.raises(LifecycleError):
            device_transition(device=device, action=action, actor=staff_be, data={"project_id": project.pk})


def test_passed_inspection_needs_a_grade(staff_be, sanitisation, project):
    device = bring_to(S.SANITISED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="needs a grade"):
        device_transition(device=device, action="inspect", actor=staff_be, record={"passed": True})


def test_recycling_needs_a_weight_and_delivery_a_number_of_people(staff_be, sanitisation, project):
    to_recycle = bring_to(S.TO_RECYCLE, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="needs its weight"):
        device_transition(device=to_recycle, action="recycle", actor=staff_be)
    shipped = bring_to(S.SHIPPED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="number of people"):
        device_transition(device=shipped, action="deliver", actor=staff_be)


def test_state_cannot_be_written_directly(staff_be, sanitisation, project):
    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(ProtectedStateError):
        device.state = S.SHIPPED
    with pytest.raises(ProtectedStateError):
        Device.objects.filter(pk=device.pk).update(state=S.SHIPPED)
    assert Device.objects.get(pk=device.pk).state == S.RECEIVED


def test_stale_copy_is_a_conflict_and_writes_nothing(staff_be, sanitisation, project):
    device = bring_to(S.PLEDGED, actor=staff_be, sanitisation=sanitisation, project=project)
    stale = Device.objects.get(pk=device.pk)
    device_transition(device=device, action="receive", actor=staff_be)
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=stale, action="receive", actor=staff_be)
    assert refused.value.code == "conflict"
    assert "just changed by someone else" in refused.value.message
    assert device.events.filter(action="receive").count() == 1


def test_staff_cannot_act_on_another_hubs_device(hubs, staff_ke_mba, staff_be, sanitisation, project):
    device = bring_to(S.PLEDGED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="receive", actor=staff_ke_mba)
    assert refused.value.code == "forbidden"
    assert Device.objects.get(pk=device.pk).state == S.PLEDGED


def test_staff_cannot_move_a_device_into_a_hub_that_is_not_theirs(hubs, staff_ke_mba):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    with pytest.raises(LifecycleError, match="you do not work at that hub") as refused:
        device_transition(device=device, action="receive", actor=staff_ke_mba, hub=hubs["ZA-JNB"])
    assert refused.value.code == "forbidden"
    with pytest.raises(LifecycleError, match="you do not work at that hub"):
        device_update(device=device, actor=staff_ke_mba, fields={"hub": hubs["ZA-JNB"]})
    device.refresh_from_db()
    assert (device.hub, device.state) == (hubs["KE-MBA"], S.PLEDGED)


def test_receiving_into_another_of_ones_own_hubs_moves_the_device(hubs, staff_ke_mba):
    from hubs.models import HubMembership

    HubMembership.objects.create(user=staff_ke_mba, hub=hubs["KE-NBO"])
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    device_transition(device=device, action="receive", actor=staff_ke_mba, hub=hubs["KE-NBO"])
    assert device.hub == hubs["KE-NBO"]
    assert device.events.get(action="receive").hub == hubs["KE-NBO"]


def test_sanitise_writes_the_nist_record(staff_be, sanitisation, project):
    device = bring_to(S.SANITISED, actor=staff_be, sanitisation=sanitisation, project=project)
    record = device.sanitisation_records.get()
    assert (record.method, record.tool, record.verified, record.operator) == ("purge", "nwipe", True, staff_be)
    assert device.events.get(action="sanitise").data["sanitisation_record_id"] == record.pk


def test_events_are_append_only_in_the_database(staff_be, sanitisation, project):
    from django.db import DatabaseError, transaction

    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    event = device.events.get(action="receive")
    with pytest.raises(DatabaseError), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).update(impact_counted=True, to_state="shipped")
    assert DeviceEvent.objects.filter(pk=event.pk).update(impact_counted=True) == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).update(impact_counted=False)


@pytest.mark.postgres
def test_events_cannot_be_deleted_on_postgresql(staff_be, sanitisation, project):
    from django.db import DatabaseError, transaction

    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(DatabaseError), transaction.atomic():
        DeviceEvent.objects.filter(device=device).delete()
    assert device.events.count() == 2


def test_diagram_names_every_transition():
    diagram = mermaid_diagram()
    for transition in TRANSITIONS:
        for source in transition.sources:
            assert f"{source.value} --> {transition.target.value}: {transition.action}" in diagram
