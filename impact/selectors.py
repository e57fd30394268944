"""The public read path: impact totals built from counter cells and opening balances, served from cache."""

import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from hubs.models import Hub

from .models import ImpactCounter, Metric, OpeningBalance

SUMMARY_CACHE_KEY = "impact:summary:v1"
SUMMARY_LOCK_KEY = "impact:summary:v1:lock"
# The fold refreshes the cached summary itself; the expiry only bounds how stale a lost refresh can leave it.
SUMMARY_TIMEOUT = 300
PUBLIC_METRICS = (
    Metric.DEVICES_RECEIVED,
    Metric.DEVICES_REFURBISHED,
    Metric.DEVICES_DELIVERED,
    Metric.BENEFICIARIES_REACHED,
    Metric.EWASTE_RECYCLED_KG,
)


def _as_number(metric: str, value: Decimal) -> int | float:
    if metric == Metric.EWASTE_RECYCLED_KG:
        return float(round(value, 1))
    return int(value)


def impact_summary_build() -> dict[str, Any]:
    """Compute the public totals from the database (a handful of small aggregate queries)."""
    per_hub: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in ImpactCounter.objects.values("hub_id", "metric").annotate(total=Sum("value")).order_by():
        per_hub[row["hub_id"]][row["metric"]] += row["total"]
    for row in OpeningBalance.objects.values("hub_id", "metric", "value"):
        per_hub[row["hub_id"]][row["metric"]] += row["value"]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    by_hub = []
    for hub in Hub.objects.filter(active=True).order_by("code"):
        values = per_hub.get(hub.pk, {})
        entry: dict[str, Any] = {"code": hub.code, "name": hub.name, "country": hub.country}
        for metric in PUBLIC_METRICS:
            entry[metric.value] = _as_number(metric, values.get(metric, Decimal(0)))
        by_hub.append(entry)
    for values in per_hub.values():
        for metric in PUBLIC_METRICS:
            totals[metric] += values.get(metric, Decimal(0))
    summary: dict[str, Any] = {m.value: _as_number(m, totals[m]) for m in PUBLIC_METRICS}
    summary["updated_at"] = timezone.now().isoformat()
    summary["by_hub"] = by_hub
    return summary


def impact_summary_refresh() -> dict[str, Any]:
    """Rebuild the summary and put it in the cache (called after every fold that changed counters)."""
    summary = impact_summary_build()
    cache.set(SUMMARY_CACHE_KEY, summary, SUMMARY_TIMEOUT)
    return summary


def impact_summary() -> dict[str, Any]:
    """The public totals; no query when the cache is warm, and one rebuild when many miss at once."""
    summary = cache.get(SUMMARY_CACHE_KEY)
    if summary is not None:
        return summary
    if cache.add(SUMMARY_LOCK_KEY, 1, timeout=10):
        try:
            return impact_summary_refresh()
        finally:
            cache.delete(SUMMARY_LOCK_KEY)
    # Someone else is rebuilding: wait briefly for their value rather than hit the database too.
    for _ in range(50):
        time.sleep(0.02)
        summary = cache.get(SUMMARY_CACHE_KEY)
        if summary is not None:
            return summary
    return impact_summary_refresh()
