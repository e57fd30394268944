from unittest import mock

from django.core.cache import cache

from impact import views
from impact.services import impact_fold_events
from refurbishing.services import device_transition
from tests.factories import DeviceFactory


def test_home_page_body_is_rendered_once_per_summary_and_again_after_a_fold(
    client, hubs, staff_be, django_capture_on_commit_callbacks
):
    cache.clear()
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    impact_fold_events()
    first = client.get("/")
    assert first.status_code == 200
    with mock.patch.object(views, "_home_content", side_effect=AssertionError("rendered again")):
        again = client.get("/")
    assert again.content == first.content

    with django_capture_on_commit_callbacks(execute=True):  # the fold refreshes the summary after commit
        device_transition(device=device, action="receive", actor=staff_be)
    changed = client.get("/")
    assert changed.content != first.content
    assert 'data-metric="devices_received">1<' in changed.content.decode()
