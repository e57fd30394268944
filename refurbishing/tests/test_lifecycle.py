"""The lifecycle service: every allowed move, every refused one with its message, and the guards."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.factories import ProjectFactory
from refurbishing import lifecycle
from refurbishing.actions import device_perform_action
from refurbishing.errors import LifecycleError
from refurbishing.factories import CONFIGURATION, DeviceFactory
from refurbishing.lifecycle import ACTIONS, TRANSITIONS, Move, Need, Transition, actions_from, mermaid_diagram
from refurbishing.models import Device, DeviceEvent, ProtectedStateError, SanitisationRecord
from refurbishing.services import (
    NEED_BUILDERS,
    device_transition,
    device_update,
    inspection_record_create,
    sanitisation_record_create,
)

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
PATHS[S.CONFIGURED] = [*PATHS[S.INSPECTED], ("configure", {"record": CONFIGURATION})]
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
        elif transition.action == "configure":
            kwargs["record"] = CONFIGURATION
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
    device_transition(device=device, action="configure", actor=staff_be, record=CONFIGURATION)
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
    device_transition(device=device, action="configure", actor=staff_be, record=CONFIGURATION)
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


def test_a_refresh_reads_the_new_state_in_the_same_query_and_still_guards_it(
    staff_be, sanitisation, project, django_assert_num_queries
):
    device = bring_to(S.PLEDGED, actor=staff_be, sanitisation=sanitisation, project=project)
    stale = Device.objects.get(pk=device.pk)
    device_transition(device=device, action="receive", actor=staff_be)
    with django_assert_num_queries(1):  # the row, state included: no second query to read the state
        stale.refresh_from_db()
        assert stale.state == S.RECEIVED and stale.version == device.version
    with pytest.raises(ProtectedStateError):  # the refresh's leave to load a new state ended with it
        stale.state = S.SHIPPED


def test_a_wipe_record_keeps_its_verified_constraint_without_asking_the_database(staff_be, sanitisation):
    device = DeviceFactory(has_storage_media=True)
    fields = {**sanitisation, "completed_at": timezone.now()}
    with CaptureQueriesContext(connection) as queries:
        SanitisationRecord(device=device, operator=staff_be, **fields).validate_constraints()
    assert queries.captured_queries == []
    fields["verified"] = False
    with pytest.raises(ValidationError) as refused:
        SanitisationRecord(device=device, operator=staff_be, **fields).validate_constraints()
    assert "sanitisation_verified" in str(refused.value)


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


# The graph DESIGN.md draws, written out by hand: the table and the diagram must both match it.
DESIGNED_EDGES = {
    ("pledged", "received", "receive"),
    ("pledged", "missing", "mark_missing"),
    ("received", "sanitised", "sanitise"),
    ("received", "inspected", "inspect (pass)"),
    ("sanitised", "inspected", "inspect (pass)"),
    ("received", "to_recycle", "inspect (fail)"),
    ("sanitised", "to_recycle", "inspect (fail)"),
    ("inspected", "configured", "configure"),
    ("configured", "allocated", "allocate [sanitised]"),
    ("allocated", "shipped", "ship [sanitised]"),
    ("shipped", "delivered", "deliver"),
    ("to_recycle", "recycled", "recycle [sanitised or destroyed]"),
}


def _diagram_edges(diagram):
    edges = set()
    for line in diagram.splitlines()[1:]:
        arrow, _, label = line.strip().partition(": ")
        source, _, target = arrow.partition(" --> ")
        if "[*]" not in (source, target):
            edges.add((source, target, label))
    return edges


def test_diagram_draws_exactly_the_designed_graph():
    diagram = mermaid_diagram()
    assert diagram.startswith("stateDiagram-v2\n    [*] --> pledged\n")
    assert _diagram_edges(diagram) == DESIGNED_EDGES
    for final in ("delivered", "recycled", "missing"):
        assert f"    {final} --> [*]\n" in diagram


def test_table_declares_the_designed_graph():
    declared = {(source.value, t.target.value) for t in TRANSITIONS for source in t.sources}
    assert declared == {(source, target) for source, target, _ in DESIGNED_EDGES}


# The guards each row runs, in order, written out: removing one (a security rule above all) fails here.
DESIGNED_GUARDS = {
    ("receive", ""): [],
    ("mark_missing", ""): [],
    ("sanitise", ""): ["has_storage_media", "drives_wiped_before_sanitised", "verified_wipe", "recorded_by_a_person"],
    ("inspect", "pass"): [
        "media_wiped_before_inspection",
        "has_grade",
        "measured_weight_valid",
        "recorded_by_a_person",
    ],
    ("inspect", "fail"): ["media_wiped_before_inspection", "measured_weight_valid", "recorded_by_a_person"],
    ("configure", ""): ["names_what_was_installed", "recorded_by_a_person"],
    ("allocate", ""): ["storage_is_sanitised", "has_project"],
    ("ship", ""): ["storage_is_sanitised"],
    ("deliver", ""): ["has_beneficiaries"],
    ("recycle", ""): ["storage_sanitised_or_destroyed_by_vendor", "has_weight"],
}


def test_each_transition_declares_its_guards():
    declared = {(t.action, t.outcome): [guard.__name__ for guard in t.guards] for t in TRANSITIONS}
    assert declared == DESIGNED_GUARDS


def test_each_transition_declares_its_need():
    declared = {(t.action, t.outcome): t.needs for t in TRANSITIONS}
    assert declared == {
        ("receive", ""): None,
        ("mark_missing", ""): None,
        ("sanitise", ""): Need.SANITISATION,
        ("inspect", "pass"): Need.INSPECTION,
        ("inspect", "fail"): Need.INSPECTION,
        ("configure", ""): Need.CONFIGURATION,
        ("allocate", ""): Need.PROJECT,
        ("ship", ""): None,
        ("deliver", ""): Need.BENEFICIARIES,
        ("recycle", ""): Need.WEIGHT,
    }


def test_a_misspelt_need_cannot_be_declared():
    with pytest.raises(ValueError, match="weigth"):
        Transition("recycle", (S.TO_RECYCLE,), S.RECYCLED, "Recycle", needs="weigth")
    assert Transition("recycle", (S.TO_RECYCLE,), S.RECYCLED, "Recycle", needs="weight").needs is Need.WEIGHT


def test_a_guard_must_be_callable_and_an_outcome_its_rule():
    with pytest.raises(TypeError, match="not callable"):
        Transition("ship", (S.ALLOCATED,), S.SHIPPED, "Ship", guards=("storage_is_sanitised",))
    with pytest.raises(TypeError, match="needs its `when` rule"):
        Transition("inspect", (S.SANITISED,), S.INSPECTED, "Inspect", outcome="pass")


def test_every_need_has_a_builder():
    assert set(NEED_BUILDERS) == set(Need)


@pytest.fixture
def received(staff_be, sanitisation, project):
    return bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)


def _move(device, action, *, actor, record=None, data=None, outcome=""):
    transition = next(t for t in TRANSITIONS if t.action == action and t.outcome == outcome)
    return Move(device=device, transition=transition, actor=actor, record=record or {}, data=data or {})


# (guard, action, outcome, move fields that break it, the message, the field it points at)
REFUSALS = [
    ("storage_is_sanitised", "recycle", "", {}, "no verified sanitisation record.*cannot recycle until", None),
    # Outside a recycling batch whose vendor destroys data, recycling refuses an unwiped device the same way.
    (
        "storage_sanitised_or_destroyed_by_vendor",
        "recycle",
        "",
        {"data": {"recycling_batch": "RB-NONE"}},
        "no verified sanitisation record.*cannot recycle until",
        None,
    ),
    ("verified_wipe", "sanitise", "", {"record": {}}, "needs the wipe's record", None),
    ("verified_wipe", "sanitise", "", {"record": {"verified": False}}, "was not verified", "verified"),
    ("has_grade", "inspect", "pass", {"record": {"passed": True}}, "needs a grade", "grade"),
    ("recorded_by_a_person", "sanitise", "", {"actor": None}, "must be recorded by the person who did it", None),
    ("has_weight", "recycle", "", {"data": {}}, "needs its weight in kg", "weight_kg"),
    ("has_weight", "recycle", "", {"data": {"weight_kg": "0"}}, "needs its weight in kg", "weight_kg"),
    ("has_weight", "recycle", "", {"data": {"weight_kg": "heavy"}}, "needs its weight in kg", "weight_kg"),
    ("has_beneficiaries", "deliver", "", {"data": {}}, "number of people the device reaches", "beneficiaries"),
    ("has_beneficiaries", "deliver", "", {"data": {"beneficiaries": -1}}, "number of people", "beneficiaries"),
    ("has_beneficiaries", "deliver", "", {"data": {"beneficiaries": "many"}}, "number of people", "beneficiaries"),
    ("has_project", "allocate", "", {"data": {}}, "needs the project it goes to", None),
]


@pytest.mark.parametrize(
    ("guard", "action", "outcome", "fields", "message", "field"),
    REFUSALS,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_each_guard_refuses_with_its_message(guard, action, outcome, fields, message, field, received, staff_be):
    fields = {"actor": staff_be} | fields
    with pytest.raises(LifecycleError, match=message) as refused:
        getattr(lifecycle, guard)(_move(received, action, outcome=outcome, **fields))
    assert refused.value.code == "invalid"
    if field:
        assert field in refused.value.field_errors


def test_storage_guards_follow_the_device(received, staff_be, sanitisation, project):
    has_storage_media = lifecycle.has_storage_media
    media_wiped_before_inspection = lifecycle.media_wiped_before_inspection
    with pytest.raises(LifecycleError, match="has not been sanitised"):
        media_wiped_before_inspection(_move(received, "inspect", outcome="pass", actor=staff_be))
    has_storage_media(_move(received, "sanitise", actor=staff_be))

    monitor = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project, has_storage_media=False)
    with pytest.raises(LifecycleError, match="no storage media, so there is nothing to wipe"):
        has_storage_media(_move(monitor, "sanitise", actor=staff_be))
    media_wiped_before_inspection(_move(monitor, "inspect", outcome="pass", actor=staff_be))
    lifecycle.storage_is_sanitised(_move(monitor, "ship", actor=staff_be))


def test_guards_let_a_complete_move_through(received, staff_be, sanitisation):
    good = {
        "verified_wipe": {"record": sanitisation},
        "has_grade": {"record": {"passed": True, "grade": "A"}},
        "has_weight": {"data": {"weight_kg": Decimal("0.40")}},
        "has_beneficiaries": {"data": {"beneficiaries": 0}},
        "has_project": {"data": {"project_id": 1}},
    }
    for guard, fields in good.items():
        assert getattr(lifecycle, guard)(_move(received, "sanitise", actor=staff_be, **fields)) is None
    device_transition(device=received, action="sanitise", actor=staff_be, record=sanitisation)
    assert lifecycle.storage_is_sanitised(_move(received, "recycle", actor=staff_be)) is None


# A failed inspection is left out: its record is complete without a grade, so it has nothing missing to refuse.
NEEDY = [t for t in TRANSITIONS if t.needs and t.outcome != "fail"]


@pytest.mark.parametrize("transition", NEEDY, ids=lambda t: f"{t.action}-{t.outcome}")
def test_a_move_without_what_it_needs_is_refused_and_writes_nothing(transition, staff_be, sanitisation, project):
    # From the row's last source state, storage wiped where it has been, so only the missing need can refuse.
    source = transition.sources[-1]
    device = bring_to(source, actor=staff_be, sanitisation=sanitisation, project=project)
    before = (device.events.count(), device.sanitisation_records.count(), device.inspection_records.count())
    record = {"passed": True} if transition.needs is Need.INSPECTION else {}
    with pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action=transition.action, actor=staff_be, record=record)
    assert refused.value.code == "invalid"
    device.refresh_from_db()
    assert device.state == source
    assert (device.events.count(), device.sanitisation_records.count(), device.inspection_records.count()) == before


def test_sanitisation_record_create_keeps_the_nist_fields(received, staff_be, sanitisation):
    record = sanitisation_record_create(device=received, operator=staff_be, **sanitisation)
    record.refresh_from_db()
    assert (record.device, record.operator) == (received, staff_be)
    assert (record.method, record.technique, record.tool, record.tool_version) == (
        "purge",
        "NVMe Format with crypto erase",
        "nwipe",
        "0.34",
    )
    assert (record.verification, record.verified) == ("full", True)
    assert record.completed_at is not None
    # A record on its own moves nothing: the device changes state only through device_transition.
    received.refresh_from_db()
    assert received.state == S.RECEIVED
    with pytest.raises(TypeError):
        sanitisation_record_create(received, staff_be, **sanitisation)


def test_inspection_record_create_keeps_no_grade_for_a_failed_device(received, staff_be):
    failed = inspection_record_create(device=received, inspector=staff_be, passed=False, grade="A", notes="no boot")
    passed = inspection_record_create(device=received, inspector=staff_be, passed=True, grade="B")
    assert (failed.passed, failed.grade, failed.notes, failed.inspector) == (False, "", "no boot", staff_be)
    assert (passed.passed, passed.grade) == (True, "B")
    assert received.inspection_records.count() == 2


def test_inspect_writes_the_record_and_points_the_event_at_it(staff_be, sanitisation, project):
    device = bring_to(S.INSPECTED, actor=staff_be, sanitisation=sanitisation, project=project)
    record = device.inspection_records.get()
    assert (record.passed, record.grade, record.inspector) == (True, "B", staff_be)
    event = device.events.get(action="inspect")
    assert (event.data["inspection_record_id"], event.data["grade"]) == (record.pk, "B")
    assert device.grade == "B"


def test_a_system_move_cannot_write_a_record(received, sanitisation):
    with pytest.raises(LifecycleError, match="must be recorded by the person who did it"):
        device_transition(device=received, action="sanitise", actor=None, record=sanitisation)
    assert received.sanitisation_records.count() == 0


def test_only_a_move_declared_to_may_change_hub(hubs, staff_be, sanitisation, project):
    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    with pytest.raises(LifecycleError, match="changes hub only when it is received"):
        device_transition(device=device, action="sanitise", actor=None, record=sanitisation, hub=hubs["KE-NBO"])
    assert [t.action for t in TRANSITIONS if t.may_change_hub] == ["receive"]


def test_recycling_from_a_form_left_empty_uses_the_devices_weight(staff_be, sanitisation, project):
    device = bring_to(S.TO_RECYCLE, actor=staff_be, sanitisation=sanitisation, project=project)
    device_perform_action(device=device, action="recycle", actor=staff_be, fields={"weight_kg": ""})
    assert device.state == S.RECYCLED
    assert device.events.get(action="recycle").data["weight_kg"] == "1.80"


def test_sanitising_from_a_form_writes_the_record(staff_be, sanitisation, project):
    device = bring_to(S.RECEIVED, actor=staff_be, sanitisation=sanitisation, project=project)
    device_perform_action(device=device, action="sanitise", actor=staff_be, fields=sanitisation | {"note": "bay 3"})
    assert device.state == S.SANITISED
    assert device.sanitisation_records.get().operator == staff_be
    assert device.events.get(action="sanitise").note == "bay 3"


def test_a_hub_makes_only_the_moves_its_kind_performs(staff_be, sanitisation, project):
    """A partner-run site (allocate, ship, deliver) neither receives nor wipes: refused, nothing written, on the
    service every surface uses; the same move passes at a hub whose kind performs it."""
    from hubs.factories import HubFactory
    from hubs.models import HubKind
    from hubs.services import hub_membership_add

    site = HubFactory(code="CD-GOM", country="CD", kind=HubKind.objects.get(code="partner_site"))
    hub_membership_add(user=staff_be, hub=site, role="technician")
    pledged = DeviceFactory(donation__hub=site)
    events = DeviceEvent.objects.count()
    with pytest.raises(LifecycleError, match=r"CD-GOM does not receive devices: .*\(Partner-run site\)"):
        device_transition(device=pledged, action="receive", actor=staff_be)
    assert Device.objects.get(pk=pledged.pk).state == S.PLEDGED
    # Received at Brussels (a refurbishing hub), it cannot be received into the site either.
    with pytest.raises(LifecycleError, match="CD-GOM does not receive devices"):
        device_transition(device=pledged, action="receive", actor=staff_be, hub=site)
    assert DeviceEvent.objects.count() == events
    assert device_transition(device=pledged, action="receive", actor=staff_be, hub=project.hub).state == S.RECEIVED
