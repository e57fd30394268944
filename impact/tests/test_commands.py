"""The reconcile_impact command: reports drift, fails a --check, and repairs."""

from io import StringIO

import pytest
from django.core.management import call_command

from impact import services
from impact.factories import counter_total
from impact.models import ImpactCounter, Metric
from refurbishing.factories import devices_received

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_reconcile_command_reports_drift_and_repairs(hubs, staff_be):
    devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    services.impact_fold_events()
    ImpactCounter.objects.filter(metric=Metric.DEVICES_RECEIVED).update(value=5)
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile_impact", "--check", stdout=out)
    assert exited.value.code == 1  # a failing exit status, so a cron job or CI step notices
    assert "DRIFT devices_received hub=BE-BRU" in out.getvalue()
    assert "counted 5.000, events say 2" in out.getvalue()
    assert counter_total(Metric.DEVICES_RECEIVED) == 5
    call_command("reconcile_impact", stdout=out)
    assert counter_total(Metric.DEVICES_RECEIVED) == 2
    out = StringIO()
    call_command("reconcile_impact", stdout=out)
    assert "No drift" in out.getvalue()
