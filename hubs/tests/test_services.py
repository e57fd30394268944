"""Writes to hubs and memberships: opening a hub, giving a user work at one; and a person's own language."""

import pytest
from django.utils import translation

from hubs.factories import HubFactory, UserFactory
from hubs.models import Hub, HubMembership, UserProfile
from hubs.selectors import user_can_act_in_hub, user_language
from hubs.services import HubError, hub_create, hub_membership_add, user_language_set

# --- hub_create and hub_membership_add (added with the demo app) ------------------------------------------


def test_hub_create_opens_a_hub_under_its_code(db):
    hub = hub_create(code="ke-ksm", name="Close the Gap Kisumu", country="ke", city="Kisumu")

    hub.refresh_from_db()
    assert (hub.code, hub.country, hub.city, hub.active) == ("KE-KSM", "KE", "Kisumu", True)


def test_hub_create_refuses_a_code_already_taken(db):
    HubFactory(code="KE-NBO", name="Close the Gap Nairobi")

    with pytest.raises(HubError, match="KE-NBO already exists; edit that hub instead"):
        hub_create(code="KE-NBO", name="Another Nairobi", country="KE", city="Nairobi")

    assert Hub.objects.get().name == "Close the Gap Nairobi"


def test_hub_create_refuses_a_code_that_is_not_country_and_city(db):
    with pytest.raises(HubError, match="A hub code is a country and a city code, e.g. KE-NBO."):
        hub_create(code="NAIROBI", name="Close the Gap Nairobi", country="KE", city="Nairobi")

    assert not Hub.objects.exists()


def test_hub_membership_add_lets_the_user_act_at_the_hub_and_sets_the_role_once(hubs):
    user = UserFactory(username="wanjiru", is_staff=True)
    assert not user_can_act_in_hub(user=user, hub_id=hubs["KE-NBO"].pk)  # caches the user's hubs: none

    membership = hub_membership_add(hub=hubs["KE-NBO"], user=user)
    assert membership.role == HubMembership.Role.TECHNICIAN
    assert user_can_act_in_hub(user=user, hub_id=hubs["KE-NBO"].pk)

    hub_membership_add(hub=hubs["KE-NBO"], user=user, role=HubMembership.Role.MANAGER)
    assert list(user.hub_memberships.values_list("hub__code", "role")) == [("KE-NBO", "manager")]


def test_hub_membership_add_refuses_an_unknown_role_and_a_deactivated_account(hubs):
    user = UserFactory(username="former", is_staff=True)

    with pytest.raises(HubError, match="director is not a hub role"):
        hub_membership_add(hub=hubs["BE-BRU"], user=user, role="director")
    user.is_active = False
    with pytest.raises(HubError, match="former is deactivated; reactivate the account"):
        hub_membership_add(hub=hubs["BE-BRU"], user=user)

    assert not HubMembership.objects.exists()


# --- user_language_set ----------------------------------------------------------------------------------------


def test_user_language_set_keeps_one_profile_per_person_with_their_latest_choice(db):
    user = UserFactory()

    user_language_set(user=user, language="fr")
    user_language_set(user=user, language="nl")

    assert UserProfile.objects.get(user=user).language == "nl"
    assert user_language(user=user) == "nl"


def test_user_language_set_refuses_a_language_the_site_does_not_offer(db):
    user = UserFactory()

    with translation.override("en"), pytest.raises(HubError, match="xx is not a language of this site"):
        user_language_set(user=user, language="xx")

    assert user_language(user=user) is None
