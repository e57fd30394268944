import pytest

from tests.factories import DonorFactory, ProjectFactory, StaffFactory, UserFactory


@pytest.mark.parametrize(
    ("who", "expected"),
    [("staff", "/admin/"), ("coordinator", "/projects/"), ("donor", "/donors/"), ("nobody", "/donors/")],
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
    response = client.post("/accounts/login/", {"username": user.username, "password": user.username}, follow=True)
    assert response.redirect_chain[-1][0].startswith(expected), response.redirect_chain
