"""The hubs admin: staff see their own hubs, read-only; the platform admin sees a person's language."""

import re

from django.urls import reverse

from hubs.services import user_language_set


def test_hub_staff_view_their_hubs_only_and_cannot_change_them(client, hubs, staff_ke_mba):
    client.force_login(staff_ke_mba)

    response = client.get(reverse("admin:hubs_hub_changelist"))
    assert [hub.code for hub in response.context["cl"].result_list] == ["KE-MBA"]
    change_url = reverse("admin:hubs_hub_change", args=[hubs["KE-MBA"].pk])
    assert client.post(change_url, {"code": "KE-MBA", "name": "Renamed"}).status_code == 403
    # Another hub does not exist for them: 404, as on the API and the scan station.
    assert client.get(reverse("admin:hubs_hub_change", args=[hubs["ZA-JNB"].pk])).status_code == 404
    hubs["KE-MBA"].refresh_from_db()
    assert hubs["KE-MBA"].name != "Renamed"


def test_the_platform_admin_sees_and_sets_a_persons_language_on_their_user_page(client, superuser, donor_user):
    user_language_set(user=donor_user, language="fr")
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[donor_user.pk])

    page = client.get(url).content.decode()

    assert 'name="profile-0-language"' in page
    assert re.search(r'<option value="fr" selected>', page)
