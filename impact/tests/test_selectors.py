"""The public read path: the summary with opening balances, served from the cache, rebuilt once; the month window."""

import threading
import time
from datetime import date
from unittest import mock

import pytest

from impact import selectors, services
from impact.factories import OpeningBalanceFactory
from impact.models import Metric
from impact.selectors import impact_monthly_window, impact_summary
from refurbishing.factories import devices_received

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_summary_adds_opening_balances_and_serves_from_cache(hubs, staff_be, django_assert_num_queries):
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=1000)
    OpeningBalanceFactory(hub=hubs["KE-NBO"], metric=Metric.BENEFICIARIES_REACHED, value=250)
    devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    services.impact_fold_events()
    summary = impact_summary()
    assert summary["devices_received"] == 1002
    assert summary["beneficiaries_reached"] == 250
    by_hub = {h["code"]: h for h in summary["by_hub"]}
    assert by_hub["BE-BRU"]["devices_received"] == 1002
    assert by_hub["KE-NBO"]["beneficiaries_reached"] == 250
    with django_assert_num_queries(0):
        assert impact_summary()["devices_received"] == 1002


def test_impact_stampede_after_expiry_rebuilds_once():
    calls = []

    def slow_build():  # stands in for the database work, which is what a stampede would repeat
        calls.append(1)
        time.sleep(0.2)  # long enough for every reader to miss the cache at once
        return {"devices_received": 7}

    results = []
    with mock.patch.object(selectors, "impact_summary_build", side_effect=slow_build):
        barrier = threading.Barrier(8)

        def read():
            barrier.wait()
            results.append(selectors.impact_summary_payload().etag)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(calls) == 1
    assert len(results) == 8 and len(set(results)) == 1


def test_monthly_window_is_the_last_24_months_with_gaps_as_zeros():
    monthly = [
        {"month": "2023-01", "devices_received": 9, "devices_delivered": 9, "beneficiaries_reached": 9},
        {"month": "2024-03", "devices_received": 5, "devices_delivered": 2, "beneficiaries_reached": 40},
    ]

    window = impact_monthly_window(monthly, months=24, today=date(2025, 2, 14))

    assert len(window) == 24
    assert window[0]["month"] == "2023-03" and window[-1]["month"] == "2025-02"
    march = next(row for row in window if row["month"] == "2024-03")
    assert march == monthly[1]
    assert window[0] == {"month": "2023-03", "devices_received": 0, "devices_delivered": 0, "beneficiaries_reached": 0}
