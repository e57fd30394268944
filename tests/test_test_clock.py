"""The suite's own clock: CLOSEGAP_TEST_CLOCK moves every clock the code reads, including the database's.

.ci/run replays the `clock` tests at the calendar's edges; these show that a replay really runs at that
instant, not at today's date with the variable ignored."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from conftest import TEST_CLOCK
from hubs.factories import UserFactory

pytestmark = pytest.mark.clock


def test_the_code_reads_the_frozen_clock(frozen_clock):
    now = timezone.now()
    if not TEST_CLOCK:
        assert frozen_clock is None
        assert abs(now - datetime.now(tz=now.tzinfo)) < timedelta(seconds=5)
        return
    start = datetime.fromisoformat(TEST_CLOCK)
    # The clock ticks on from the frozen instant, so a slow test still reads a moment just after it.
    assert start <= now < start + timedelta(minutes=5)
    assert timezone.localdate() == timezone.localtime(now).date()


@pytest.mark.django_db
def test_rows_are_stamped_with_the_frozen_clock(frozen_clock):
    token = Token.objects.create(user=UserFactory())  # `created` is auto_now_add
    stored = Token.objects.values_list("created", flat=True).get(pk=token.pk)
    start = datetime.fromisoformat(TEST_CLOCK) if TEST_CLOCK else timezone.now() - timedelta(minutes=1)
    assert start <= stored < start + timedelta(minutes=5)
