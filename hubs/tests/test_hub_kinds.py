"""Hub kinds: the four kinds of the network as data, what a kind promises, the migration that gave every existing
hub a kind, the admin where only the platform admin changes them, and the API field."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from hubs.factories import HubFactory, HubKindFactory
from hubs.models import LIFECYCLE_STEPS, Hub, HubKind
from hubs.selectors import hub_list_sending_to_projects, hub_list_taking_company_donations, hub_performs
from hubs.services import hub_create

BEFORE = [("hubs", "0004_user_email_unique_whatever_its_case")]
AFTER = [("hubs", "0005_hub_kinds")]


def kind(code: str) -> HubKind:
    return HubKind.objects.get(code=code)


def test_the_lifecycle_steps_a_kind_lists_are_the_lifecycle_actions():
    # hubs cannot import the lifecycle (it sits above); this keeps the copy of its action names honest.
    from refurbishing.lifecycle import ACTIONS

    assert tuple(LIFECYCLE_STEPS) == ACTIONS


def test_the_four_kinds_of_the_network_say_what_differs_as_data(db):
    kinds = {k.code: k for k in HubKind.objects.all()}
    assert set(kinds) == {
        HubKind.REFURBISHING_HUB,
        HubKind.CIRCULAR_ECONOMY_HUB,
        HubKind.ITAD_SOCIAL_ENTERPRISE,
        HubKind.PARTNER_SITE,
    }
    rows = {code: (k.name, k.takes_company_donations, k.sends_to_projects, k.steps) for code, k in kinds.items()}
    every_step = list(LIFECYCLE_STEPS)
    assert rows == {
        "refurbishing_hub": ("Refurbishing hub", True, True, every_step),
        "circular_economy_hub": ("Circular-economy hub", True, True, every_step),
        "itad_social_enterprise": (
            "ITAD social enterprise",
            True,
            False,
            ["receive", "mark_missing", "sanitise", "inspect", "configure", "recycle"],
        ),
        "partner_site": ("Partner-run site", False, True, ["allocate", "ship", "deliver"]),
    }
    assert kinds["refurbishing_hub"].description == "Refurbishes donated devices and sends them to projects."
    for each in kinds.values():
        each.full_clean()  # every kind keeps the rules a platform admin's edit must keep
        assert each.description and str(each) == each.name


def test_a_kind_performs_the_steps_it_lists_and_a_hub_what_its_kind_does(db, hubs):
    itad, partner = kind(HubKind.ITAD_SOCIAL_ENTERPRISE), kind(HubKind.PARTNER_SITE)
    assert itad.performs("sanitise") and not itad.performs("allocate")
    assert partner.performs("deliver") and not partner.performs("sanitise") and not partner.performs("teleport")

    Hub.objects.filter(code="CD-FIH").update(kind=partner)
    kinshasa = Hub.objects.get(code="CD-FIH")
    assert hub_performs(kinshasa, "ship") and not hub_performs(kinshasa, "receive")
    assert hub_performs(hubs["BE-BRU"], "receive") and hub_performs(hubs["BE-BRU"], "recycle")


def test_a_kinds_steps_are_lifecycle_steps_each_once_and_cover_what_it_promises(db):
    unknown = HubKindFactory.build(code="odd", steps=["receive", "teleport"])
    with pytest.raises(ValidationError, match="teleport: not a lifecycle step"):
        unknown.full_clean()
    twice = HubKindFactory.build(code="twice", steps=[*LIFECYCLE_STEPS, "ship"])
    with pytest.raises(ValidationError, match="List each step once"):
        twice.full_clean()
    no_wiping = HubKindFactory.build(code="no_wiping", steps=["receive", "allocate", "ship", "deliver"])
    with pytest.raises(ValidationError, match="takes donations from companies receives and sanitises"):
        no_wiping.full_clean()
    no_shipping = HubKindFactory.build(code="no_shipping", steps=["receive", "sanitise", "allocate"])
    with pytest.raises(ValidationError, match="sends devices to projects allocates, ships and delivers"):
        no_shipping.full_clean()
    with pytest.raises(ValidationError, match="lower-case letters"):
        HubKindFactory.build(code="Big-Kind").full_clean()


def test_a_new_hub_is_a_refurbishing_hub_unless_another_kind_is_given(db):
    plain = hub_create(code="ke-ksm", name="Kisumu", country="ke", city="Kisumu")
    itad = hub_create(
        code="ZA-CPT", name="Cape Town", country="ZA", city="Cape Town", kind=kind(HubKind.ITAD_SOCIAL_ENTERPRISE)
    )
    assert plain.kind.code == HubKind.REFURBISHING_HUB
    assert Hub.objects.get(code="ZA-CPT").kind == itad.kind == kind(HubKind.ITAD_SOCIAL_ENTERPRISE)


def test_the_hubs_companies_pledge_to_and_projects_apply_to_follow_their_kind(db, hubs):
    Hub.objects.filter(code="CD-FIH").update(kind=kind(HubKind.PARTNER_SITE))
    Hub.objects.filter(code="ZA-JNB").update(kind=kind(HubKind.ITAD_SOCIAL_ENTERPRISE))
    Hub.objects.filter(code="KE-NBO").update(active=False)

    assert [h.code for h in hub_list_taking_company_donations()] == ["BE-BRU", "KE-MBA", "ZA-JNB"]
    assert [h.code for h in hub_list_sending_to_projects()] == ["BE-BRU", "CD-FIH", "KE-MBA"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_creates_the_kinds_and_makes_every_existing_hub_a_refurbishing_hub():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        assert "hubkind" not in old_apps.all_models["hubs"]
        old_apps.get_model("hubs", "Hub").objects.create(code="KE-KSM", name="Kisumu", country="KE", city="Kisumu")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new_apps = executor.loader.project_state(AFTER).apps
        hub = new_apps.get_model("hubs", "Hub").objects.select_related("kind").get(code="KE-KSM")
        assert hub.kind.code == "refurbishing_hub"
        assert new_apps.get_model("hubs", "HubKind").objects.count() == 4

        # And back: the column and the kinds go, the hub stays.
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        assert old_apps.get_model("hubs", "Hub").objects.filter(code="KE-KSM").exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Hub.objects.get(code="KE-KSM").kind.code == HubKind.REFURBISHING_HUB


# --- admin -----------------------------------------------------------------------------------------------


def test_hub_staff_see_the_kinds_but_only_the_platform_admin_changes_them(client, hubs, staff_ke_mba, superuser):
    partner = kind(HubKind.PARTNER_SITE)
    change_url = reverse("admin:hubs_hubkind_change", args=[partner.pk])
    form = {
        "name": "Partner-run site",
        "description": "Run with a partner.",
        "steps": ["deliver", "allocate", "ship", "recycle"],
        "sends_to_projects": "on",
    }

    client.force_login(staff_ke_mba)
    assert client.get(reverse("admin:hubs_hubkind_changelist")).status_code == 200
    assert client.post(change_url, form).status_code == 403
    assert client.get(reverse("admin:hubs_hubkind_add")).status_code == 403
    partner.refresh_from_db()
    assert partner.description != "Run with a partner."

    client.force_login(superuser)
    page = client.get(change_url).content.decode()
    assert 'type="checkbox" name="steps" value="sanitise"' in page
    assert client.post(change_url, form).status_code == 302
    partner.refresh_from_db()
    # Kept in lifecycle order, whatever the order ticked.
    assert partner.steps == ["allocate", "ship", "deliver", "recycle"]
    assert (partner.description, partner.takes_company_donations) == ("Run with a partner.", False)


def test_the_kind_form_refuses_a_kind_that_takes_donations_it_cannot_wipe(client, superuser, db):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:hubs_hubkind_add"),
        {
            "code": "drop_off",
            "name": "Drop-off point",
            "description": "Collects devices.",
            "steps": ["receive"],
            "takes_company_donations": "on",
        },
    )
    assert response.status_code == 200
    assert "receives and sanitises them: add those steps" in response.content.decode()
    assert not HubKind.objects.filter(code="drop_off").exists()


def test_the_hub_admin_shows_and_filters_by_kind(client, hubs, superuser):
    partner = kind(HubKind.PARTNER_SITE)
    Hub.objects.filter(code="CD-FIH").update(kind=partner)
    client.force_login(superuser)

    listed = client.get(reverse("admin:hubs_hub_changelist"))
    assert "Partner-run site" in listed.content.decode()
    filtered = client.get(reverse("admin:hubs_hub_changelist"), {"kind__id__exact": partner.pk})
    assert [hub.code for hub in filtered.context["cl"].result_list] == ["CD-FIH"]


# --- API -------------------------------------------------------------------------------------------------


def test_the_api_names_each_hubs_kind_by_its_code(superuser, hubs, token_client, django_assert_max_num_queries):
    Hub.objects.filter(code="ZA-JNB").update(kind=kind(HubKind.ITAD_SOCIAL_ENTERPRISE))
    HubFactory(code="KE-KSM", kind=kind(HubKind.CIRCULAR_ECONOMY_HUB))
    client = token_client(superuser)

    with django_assert_max_num_queries(3):  # the token, the user, the hubs with their kinds: whatever the rows
        body = client.get("/api/v1/hubs/").json()

    kinds = {hub["code"]: hub["kind"] for hub in body}
    assert kinds == {
        "BE-BRU": "refurbishing_hub",
        "CD-FIH": "refurbishing_hub",
        "KE-KSM": "circular_economy_hub",
        "KE-MBA": "refurbishing_hub",
        "KE-NBO": "refurbishing_hub",
        "ZA-JNB": "itad_social_enterprise",
    }


def test_the_schema_documents_the_kind_as_a_read_only_code(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    field = schema["components"]["schemas"]["Hub"]["properties"]["kind"]
    assert field["type"] == "string" and field["readOnly"] is True
    assert "refurbishing_hub" in field["description"]
