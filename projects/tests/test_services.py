"""Projects: registering a beneficiary organisation's project and its coordinators."""

import pytest

from hubs.factories import UserFactory
from projects.models import Project
from projects.selectors import project_list_for_user
from projects.services import ProjectError, project_coordinator_add, project_create

# --- project_create and project_coordinator_add (added with the demo app) -----------------------------------


def test_project_create_registers_a_project_served_by_the_hub(hubs):
    project = project_create(
        organisation="Lycée Technique de Bukavu",
        name="Computer lab",
        kind=Project.Kind.EDUCATION,
        country="cd",
        hub=hubs["BE-BRU"],
        expected_beneficiaries=900,
        public=True,
    )

    project.refresh_from_db()
    assert (project.organisation, project.country, project.hub.code) == ("Lycée Technique de Bukavu", "CD", "BE-BRU")
    assert (project.kind, project.expected_beneficiaries, project.public) == ("education", 900, True)


def test_project_create_names_the_field_that_is_wrong(hubs):
    with pytest.raises(ProjectError, match="kind: Value 'farming' is not a valid choice."):
        project_create(organisation="Co-op", name="Irrigation", kind="farming", country="KE", hub=hubs["KE-MBA"])
    with pytest.raises(ProjectError, match="expected beneficiaries: Ensure this value is greater than or equal to 0"):
        project_create(
            organisation="Co-op",
            name="Bookkeeping",
            kind=Project.Kind.ENTREPRENEURSHIP,
            country="KE",
            hub=hubs["KE-MBA"],
            expected_beneficiaries=-5,
        )

    assert not Project.objects.exists()


def test_project_create_refuses_a_hub_that_is_closed(hubs):
    hubs["ZA-JNB"].active = False
    hubs["ZA-JNB"].save(update_fields=["active"])

    with pytest.raises(ProjectError, match="does not serve projects at the moment; choose another hub"):
        project_create(organisation="Library", name="Internet", kind="social", country="ZA", hub=hubs["ZA-JNB"])


def test_project_coordinator_add_opens_the_project_portal_to_the_user(hubs):
    project = project_create(organisation="Clinic", name="Records", kind="medical", country="KE", hub=hubs["KE-NBO"])
    coordinator = UserFactory(username="amina")
    retired = UserFactory(username="retired", is_active=False)

    project_coordinator_add(project=project, user=coordinator)
    with pytest.raises(ProjectError, match="retired is deactivated; reactivate the account"):
        project_coordinator_add(project=project, user=retired)

    assert list(project_list_for_user(user=coordinator)) == [project]
    assert list(project.coordinators.values_list("username", flat=True)) == ["amina"]
