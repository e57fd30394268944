"""Logging in sends each person to their place (hub staff, coordinators, donors); logging out is a POST."""

import pytest
from django.urls import reverse

from donations.factories import DonorFactory
from hubs.factories import StaffFactory, UserFactory
from projects.factories import ProjectFactory


@pytest.mark.parametrize(
    ("who", "expected"),
    [("staff", "/admin/"), ("coordinator", "/en/projects/"), ("donor", "/en/donors/"), ("nobody", "/en/donors/")],
)
def test_login_sends_each_person_to_their_place(client, hubs, who, expected):
    if who == "staff":
        user = StaffFactory(username="tech", hub=hubs["KE-MBA"])
    else:
        user = UserFactory(username=who)
        if who == "coordinator":
            ProjectFactory(hub=hubs["KE-MBA"]).coordinators.add(user)
        elif who == "donor":
            DonorFactory().users.add(user)
    response = client.post(reverse("login"), {"username": user.username, "password": user.username}, follow=True)
    assert response.redirect_chain[-1][0].startswith(expected), response.redirect_chain


def test_log_in_lands_on_the_donor_portal_and_log_out_is_a_post(client, donor_user):
    page = client.get(reverse("login")).content.decode()
    assert 'name="username"' in page and 'for="id_password"' in page

    response = client.post(reverse("login"), {"username": "donor-a", "password": "donor-a"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("donations:portal")
    portal = client.get(reverse("donations:portal")).content.decode()
    assert f'<form class="inline" method="post" action="{reverse("logout")}">' in portal

    assert client.get(reverse("logout")).status_code == 405  # a link or an image cannot log anyone out
    assert "_auth_user_id" in client.session
    assert client.post(reverse("logout"))["Location"] == reverse("impact:home")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("who", "donor_links"),
    [("staff", False), ("staff who donates", True), ("donor", True), ("nobody", True), ("visitor", True)],
)
def test_the_menu_fits_the_persons_role(client, hubs, who, donor_links):
    """Issue 20 (8): hub staff saw "Donate" and "My donations"; they see them only if they give for a donor."""
    if who != "visitor":
        if who.startswith("staff"):
            user = StaffFactory(username="tech", hub=hubs["KE-MBA"])
            if who == "staff who donates":
                DonorFactory().users.add(user)
        else:
            user = UserFactory(username=who)
            if who == "donor":
                DonorFactory().users.add(user)
        client.post(reverse("login"), {"username": user.username, "password": user.username}, follow=True)
    menu = client.get(reverse("impact:home")).content.decode()
    menu = menu[menu.index('<nav aria-label="Main"') : menu.index("</nav>")]
    assert ('href="' + reverse("donations:portal") + '"' in menu) is (donor_links and who != "visitor")
    assert (">Donate</a>" in menu) is donor_links
    assert (">Scan station</a>" in menu) is who.startswith("staff")
