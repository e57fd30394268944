"""The declared demo content names only states, categories, kinds and actions the apps declare."""

from demo import data
from hubs.models import HubKind
from projects.models import Project
from refurbishing.actions import validate_action_fields
from refurbishing.lifecycle import ACTIONS
from refurbishing.models import Device, DeviceState


def test_demo_data_names_only_what_the_apps_declare():
    # demo.data is plain data (the benchmarks read it without Django): a typo there must fail here, not seed
    # a state, category or kind that no page knows.
    assert set(data.STATE_PLAN) == set(DeviceState.values) == set(data.PATHS)
    assert set(data.CATALOGUE) == set(data.CATEGORY_WEIGHTS) <= set(Device.Category.values)
    assert {kind for rows in data.PROJECTS.values() for _, _, kind, _, _ in rows} <= set(Project.Kind.values)
    assert {step.action for path in data.PATHS.values() for step in path} <= set(ACTIONS)
    assert set(data.GRADES) <= set(Device.Grade.values)
    hub_codes = [code for code, *_ in data.HUBS]
    assert hub_codes == list(data.OPENING_DEVICES_RECEIVED) == list(data.OPENING_BENEFICIARIES)
    assert set(hub_codes) == set(data.DONORS_BY_HUB) == set(data.HUB_KINDS)
    assert set(data.PROJECTS) <= set(hub_codes)
    assert set(data.SUPPLY_PLAN) <= set(DeviceState.values)


def test_every_demo_hub_has_a_kind_whose_rules_its_demo_work_keeps(db):
    # The kinds are the migration's; the seed goes through services that refuse what a kind does not do.
    kinds = {kind.code: kind for kind in HubKind.objects.all()}
    for code, kind_code in data.HUB_KINDS.items():
        kind = kinds[kind_code]
        if not kind.takes_company_donations:
            assert kinds[data.HUB_KINDS[data.SUPPLIED_BY[code]]].takes_company_donations, code
        if data.PROJECTS.get(code):
            assert kind.sends_to_projects, code
    assert data.HUB_KINDS["ZA-JNB"] == HubKind.ITAD_SOCIAL_ENTERPRISE and "ZA-JNB" not in data.PROJECTS
    assert data.APPLICATION_HUB in data.PROJECTS


def test_every_demo_step_carries_fields_its_form_accepts(db):
    for step in [step for path in data.PATHS.values() for step in path]:
        fields = dict(step.fields) | ({"grade": data.GRADES[0]} if step.draws_grade else {})
        validate_action_fields(step.action, fields)  # raises LifecycleError listing what is wrong


def test_every_demo_project_is_served_by_a_hub_that_serves_its_country():
    # Brussels serves the projects in DR Congo; every other hub the projects of its own country. A school in
    # Bukavu listed at a Kenyan place (as the demo once had) would be caught here.
    serves = {code: {country} for code, _name, country, _city in data.HUBS} | {"BE-BRU": {"CD"}}
    for code, rows in data.PROJECTS.items():
        for organisation, _name, _kind, country, _expected in rows:
            assert country in serves[code], (organisation, code, country)
    assert data.APPLICATION["country"] in serves[data.APPLICATION_HUB]
    same_organisation = [
        row for rows in data.PROJECTS.values() for row in rows if row[0] == data.APPLICATION["organisation"]
    ]
    assert all(row[3] == data.APPLICATION["country"] for row in same_organisation)
    assert data.APPLICATION["place"] in data.APPLICATION["organisation"]
