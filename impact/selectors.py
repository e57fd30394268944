"""The public read path: impact figures built from counter cells and opening balances, served from cache.

The fold refreshes the cached summary after every batch, so readers normally never build it. Each process
also keeps the rendered JSON for up to ``IMPACT_LOCAL_CACHE_SECONDS`` (1 s by default), so a busy public
endpoint answers from memory without even a cache round trip; that second is the price of its speed.
"""

import gzip
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from donations.selectors import device_list_for_user
from hubs.models import Hub
from projects.models import Project
from projects.selectors import project_list_public
from refurbishing.destinations import device_destinations
from refurbishing.selectors import device_delivery_figures, device_recycled_weight_kg

from .models import EmissionFactor, ImpactCounter, Metric, OpeningBalance

SUMMARY_CACHE_KEY = "impact:summary:v2"
SUMMARY_LOCK_KEY = "impact:summary:v2:lock"
# The fold refreshes the cached summary itself; the expiry only bounds how stale a lost refresh can leave it.
SUMMARY_TIMEOUT = 300
PUBLIC_METRICS = (
    Metric.DEVICES_RECEIVED,
    Metric.DEVICES_REFURBISHED,
    Metric.DEVICES_DELIVERED,
    Metric.BENEFICIARIES_REACHED,
    Metric.EWASTE_RECYCLED_KG,
    Metric.EWASTE_COMPENSATED_KG,
)
MONTHLY_METRICS = (Metric.DEVICES_RECEIVED, Metric.DEVICES_DELIVERED, Metric.BENEFICIARIES_REACHED)


@dataclass(frozen=True)
class SummaryPayload:
    data: dict[str, Any]
    body: bytes
    etag: str

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzipped once per payload (mtime 0: the same bytes in every process), for clients that accept it."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)


def _as_number(metric: str, value: Decimal) -> int | float:
    if metric in (Metric.EWASTE_RECYCLED_KG, Metric.EWASTE_COMPENSATED_KG):
        return float(round(value, 1))
    return int(value)


def _figures(values: dict[str, Decimal], metrics=PUBLIC_METRICS) -> dict[str, int | float]:
    return {m.value: _as_number(m, values.get(m, Decimal(0))) for m in metrics}


def _month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def _kind_rows(per_kind: dict[str, dict[str, Decimal]]) -> list[dict[str, Any]]:
    """One row per project kind, in the kinds' order, zeros for a kind without figures (home and hub pages)."""
    return [
        {"kind": kind, "label": str(label), **_figures(per_kind.get(kind, {}))} for kind, label in Project.Kind.choices
    ]


def _monthly_rows(per_month: dict[str, dict[str, Decimal]]) -> list[dict[str, Any]]:
    return [{"month": month, **_figures(per_month[month], MONTHLY_METRICS)} for month in sorted(per_month)]


def _environment(
    delivered_by_category: dict[str, Decimal],
    ewaste_kg: Decimal,
    factors: list[EmissionFactor],
    *,
    historic_ewaste_kg: Decimal = Decimal(0),
) -> dict[str, Any]:
    """Both CO2e estimates on one basis: what went through the platform (devices delivered, e-waste recycled).

    ``ewaste_kg`` is the e-waste recycled through the platform; ``historic_ewaste_kg`` (opening balances, from
    before the platform) is diverted too and counted in ``ewaste_diverted_kg``, but not in the CO2e estimates,
    as the devices delivered before the platform are not: otherwise reuse would count the platform's years and
    recycling every year since the organisation began.
    """
    by_key = {f.applies_to: f for f in factors}
    reuse = sum(
        (count * by_key[category].kg_co2e for category, count in delivered_by_category.items() if category in by_key),
        Decimal(0),
    )
    recycling = ewaste_kg * by_key[EmissionFactor.EWASTE].kg_co2e if EmissionFactor.EWASTE in by_key else Decimal(0)
    return {
        "is_estimate": True,
        "co2e_avoided_kg": int(reuse + recycling),
        "co2e_avoided_by_reuse_kg": int(reuse),
        "co2e_avoided_by_recycling_kg": int(recycling),
        "basis": "platform",
        "ewaste_diverted_kg": float(round(ewaste_kg + historic_ewaste_kg, 1)),
        "ewaste_recycled_through_platform_kg": float(round(ewaste_kg, 1)),
        "ewaste_historic_kg": float(round(historic_ewaste_kg, 1)),
        "method": (
            "Both estimates count only what went through the platform: devices delivered through it, times the "
            "avoided manufacturing emissions of a new device of the same category, plus e-waste recycled through "
            "it times the avoided emissions per kg. The historic totals from before the platform (devices and "
            "e-waste) are counted in the totals but not in these estimates, and neither are devices of categories "
            "without a published factor."
        ),
        "factors": [
            {
                "applies_to": f.applies_to,
                "label": f.label,
                "kg_co2e": float(f.kg_co2e),
                "source": f.source,
                "source_url": f.source_url,
            }
            for f in factors
        ],
    }


def impact_summary_build() -> dict[str, Any]:
    """Compute every public figure from the counter cells (a small table) and the opening balances."""
    hubs = list(Hub.objects.filter(active=True).select_related("kind").order_by("code"))
    per_hub: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    per_kind: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    per_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    delivered_by_category: dict[str, Decimal] = defaultdict(Decimal)
    platform: dict[str, Decimal] = defaultdict(Decimal)  # through the platform: counters, no opening balances
    cells = ImpactCounter.objects.values_list("hub_id", "metric", "project_kind", "device_category", "month", "value")
    for hub_id, metric, kind, category, month, value in cells:
        per_hub[hub_id][metric] += value
        platform[metric] += value
        if kind:
            per_kind[kind][metric] += value
        per_month[_month_key(month)][metric] += value
        if metric == Metric.DEVICES_DELIVERED:
            delivered_by_category[category] += value
    for hub_id, metric, value in OpeningBalance.objects.values_list("hub_id", "metric", "value"):
        per_hub[hub_id][metric] += value

    active_ids = {hub.pk for hub in hubs}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    per_country: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    country_of = {hub.pk: hub.country for hub in hubs}
    for hub_id, values in per_hub.items():
        for metric, value in values.items():
            totals[metric] += value
            if hub_id in active_ids:
                per_country[country_of[hub_id]][metric] += value

    summary: dict[str, Any] = _figures(totals)
    summary["updated_at"] = timezone.now().isoformat()
    summary["by_hub"] = [
        {
            "code": hub.code,
            "name": hub.name,
            "country": hub.country,
            # As stored, in English: pages translate it where they show it (``impact.views``).
            "kind": {"code": hub.kind.code, "name": hub.kind.name, "description": hub.kind.description},
            **_figures(per_hub.get(hub.pk, {})),
        }
        for hub in hubs
    ]
    summary["by_country"] = [{"country": country, **_figures(per_country[country])} for country in sorted(per_country)]
    summary["by_project_kind"] = _kind_rows(per_kind)
    summary["monthly"] = _monthly_rows(per_month)
    platform_ewaste = platform[Metric.EWASTE_RECYCLED_KG]
    summary["environment"] = _environment(
        delivered_by_category,
        platform_ewaste,
        list(EmissionFactor.objects.order_by("applies_to")),
        historic_ewaste_kg=totals[Metric.EWASTE_RECYCLED_KG] - platform_ewaste,
    )
    return summary


def _payload(data: dict[str, Any]) -> SummaryPayload:
    body = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    return SummaryPayload(data=data, body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def impact_summary_refresh() -> SummaryPayload:
    """Rebuild the summary and put it in the shared cache (called after every fold that changed counters)."""
    payload = _payload(impact_summary_build())
    cache.set(SUMMARY_CACHE_KEY, payload, SUMMARY_TIMEOUT)
    _local.clear()
    return payload


def _shared_payload() -> SummaryPayload:
    payload = cache.get(SUMMARY_CACHE_KEY)
    if payload is not None:
        return payload
    # A stampede after expiry rebuilds once: the first reader takes the lock, the others wait for its value.
    if cache.add(SUMMARY_LOCK_KEY, 1, timeout=10):
        try:
            return impact_summary_refresh()
        finally:
            cache.delete(SUMMARY_LOCK_KEY)
    for _ in range(100):
        time.sleep(0.02)
        payload = cache.get(SUMMARY_CACHE_KEY)
        if payload is not None:
            return payload
    return impact_summary_refresh()


# Per-process, short-lived: holds nothing other processes need to agree on.
_local: dict[str, Any] = {}


def impact_summary_payload() -> SummaryPayload:
    """The public figures, rendered, with their ETag: from process memory, else the shared cache."""
    ttl = getattr(settings, "IMPACT_LOCAL_CACHE_SECONDS", 1.0)
    now = time.monotonic()
    if ttl > 0 and _local.get("expires", 0) > now:
        return _local["payload"]
    payload = _shared_payload()
    if ttl > 0:
        _local.update(payload=payload, expires=now + ttl)
    return payload


def impact_summary() -> dict[str, Any]:
    """The public figures as a dict; no query when the cache is warm."""
    return impact_summary_payload().data


# Per-hub and per-project public figures (the hub pages and public project pages).

HUB_CACHE_TIMEOUT = 60  # bounds how long a project withdrawn from public view can linger on its hub's page
HUB_PROJECTS_SHOWN = 20


def impact_monthly_window(monthly: list[dict[str, Any]], *, months: int = 24, today: date | None = None) -> list[dict]:
    """The last ``months`` calendar months up to the current one, oldest first; months without figures are zeros."""
    today = today or timezone.now().date()
    by_month = {row["month"]: row for row in monthly}
    year, month = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    zero = _figures({}, MONTHLY_METRICS)
    return [{"month": key, **zero, **by_month.get(key, {})} for key in reversed(keys)]


def public_project_as_dict(project: Project) -> dict[str, Any]:
    """What a public page may show of a project: never its coordinators or anything else personal."""
    return {
        "id": project.pk,
        "organisation": project.organisation,
        "name": project.name,
        "kind": project.kind,
        "kind_label": str(project.get_kind_display()),
        "country": project.country,
        "hub_code": project.hub.code,
        "hub_name": project.hub.name,
        "hub_active": project.hub.active,
        "devices_delivered": int(getattr(project, "devices_delivered", 0) or 0),
        "beneficiaries_reached": int(getattr(project, "beneficiaries_reached", 0) or 0),
    }


def impact_hub_build(*, code: str) -> dict[str, Any] | None:
    """One active hub's figures that the summary does not carry: opening balances, months, kinds, projects.

    None when no active hub has that code. Four small queries: the hub, its counter cells (a handful of rows
    per month), its opening balances and its first public projects.
    """
    hub = Hub.objects.filter(code=code, active=True).first()
    if hub is None:
        return None
    per_kind: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    per_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    cells = ImpactCounter.objects.filter(hub=hub).values_list("metric", "project_kind", "month", "value")
    for metric, kind, month, value in cells:
        if kind:
            per_kind[kind][metric] += value
        per_month[_month_key(month)][metric] += value
    opening = dict(OpeningBalance.objects.filter(hub=hub).values_list("metric", "value"))
    projects = list(project_list_public(hub_code=hub.code)[: HUB_PROJECTS_SHOWN + 1])
    return {
        "code": hub.code,
        "city": hub.city,
        "opening": [
            {"metric": m.value, "label": str(m.label), "value": _as_number(m, opening[m])}
            for m in PUBLIC_METRICS
            if opening.get(m)
        ],
        "monthly": _monthly_rows(per_month),
        "by_project_kind": _kind_rows(per_kind),
        "projects": [public_project_as_dict(p) for p in projects[:HUB_PROJECTS_SHOWN]],
        "more_projects": len(projects) > HUB_PROJECTS_SHOWN,
    }


def impact_hub_detail(*, code: str) -> dict[str, Any] | None:
    """A hub's public page figures, or None for an unknown or inactive hub; no query when the caches are warm.

    The totals (opening balances included) come from the cached summary, so they match the home page. The
    rest is built per hub and cached under the summary's ETag: every refresh after a fold changes the ETag,
    so a new fold invalidates the hub figures with the same step that refreshes the home page.
    """
    payload = impact_summary_payload()
    totals = next((hub for hub in payload.data.get("by_hub", ()) if hub["code"] == code), None)
    if totals is None:  # the summary lists every active hub, so this answers "unknown or inactive" without a query
        return None
    version = payload.etag.strip('"')
    key = f"impact:hub:v1:{code}:{version}"
    detail = cache.get(key)
    if detail is None:
        detail = impact_hub_build(code=code)
        if detail is None:  # deactivated since the summary was built
            return None
        cache.set(key, detail, HUB_CACHE_TIMEOUT)
    return {"totals": totals, "updated_at": payload.data.get("updated_at"), **detail}


# --- One donor organisation's impact --------------------------------------------------------------------------
# Here, above the donor side, because the estimate must use the very factors and formula of the public page
# (``EmissionFactor``, ``_environment``), which live in this app; the donor side cannot import upwards.


def donor_impact(*, user: AbstractBaseUser | AnonymousUser) -> dict[str, Any]:
    """What the user's organisations' donations achieved: devices reused, people reached, the countries and project
    kinds reached, e-waste recycled and the CO2e avoided, estimated exactly as on the public page.

    Only counts and kinds: never a beneficiary's name or any personal data. A fixed number of queries.
    """
    devices = device_list_for_user(user=user)
    deliveries = device_delivery_figures(queryset=devices)
    people = 0
    delivered_by_category: dict[str, Decimal] = defaultdict(Decimal)
    for _device_id, category, data in deliveries:
        delivered_by_category[category] += 1
        try:
            people += int((data or {}).get("beneficiaries") or 0)
        except (TypeError, ValueError):
            continue
    destinations = device_destinations(device_ids=[device_id for device_id, _category, _data in deliveries])
    countries: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    kind_labels: dict[str, str] = {}
    for destination in destinations.values():
        countries[destination.country] += 1
        kinds[destination.kind] += 1
        kind_labels[destination.kind] = destination.kind_label
    ewaste_kg = device_recycled_weight_kg(queryset=devices)
    environment = _environment(delivered_by_category, ewaste_kg, list(EmissionFactor.objects.order_by("applies_to")))
    return {
        "devices_reused": len(deliveries),
        "people_reached": people,
        "countries": sorted(countries.items()),
        "project_kinds": [(kind_labels[kind], count) for kind, count in sorted(kinds.items())],
        "ewaste_recycled_kg": float(round(ewaste_kg, 1)),
        "environment": environment,
    }
