"""Finished public pages for anonymous visitors: gzipped, revalidated with an ETag, fresh after a fold,
per language, and never used for a signed-in person."""

import gzip

import pytest
from django.urls import reverse

from impact.services import impact_fold_events
from refurbishing.factories import DeviceFactory
from refurbishing.services import device_transition

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def device(hubs):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    impact_fold_events()
    return device


def test_home_is_sent_gzipped_to_browsers_that_accept_it(client, device):
    plain = client.get(reverse("impact:home"))
    zipped = client.get(reverse("impact:home"), headers={"accept-encoding": "gzip, deflate, br"})

    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 3
    assert "Accept-Encoding" in zipped["Vary"]


def test_a_returning_browser_gets_304_until_the_figures_change(
    client, device, staff_be, django_capture_on_commit_callbacks
):
    first = client.get(reverse("impact:home"))
    etag = first["ETag"]

    again = client.get(reverse("impact:home"), headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""

    with django_capture_on_commit_callbacks(execute=True):  # the fold refreshes the summary after commit
        device_transition(device=device, action="receive", actor=staff_be)
    changed = client.get(reverse("impact:home"), headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert 'data-metric="devices_received">1<' in changed.content.decode()


def test_each_language_has_its_own_page(client, device):
    english = client.get("/en/")
    french = client.get("/fr/")

    assert english["ETag"] != french["ETag"]
    assert '<html lang="fr"' in french.content.decode()
    assert '<html lang="en"' in english.content.decode()


def test_a_signed_in_person_gets_their_own_header_not_the_anonymous_page(client, device, staff_be):
    client.get(reverse("impact:home"))  # the anonymous page is now kept
    client.force_login(staff_be)

    response = client.get(reverse("impact:home"))

    assert "ETag" not in response
    assert staff_be.username in response.content.decode()  # the log-out button names the person


def test_favicon_is_served_at_the_site_root(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
