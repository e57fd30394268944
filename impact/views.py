"""Public pages: the live impact totals, hub pages, public project pages and the embeddable widget."""

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_format
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET
from django_countries import countries as country_names

from projects.models import Project
from projects.selectors import project_get_public, project_list_public, project_story_list_public

from .charts import Series, horizontal_bars, legend, monthly_bars
from .models import Metric
from .page_cache import cached_public_page
from .selectors import (
    PUBLIC_METRICS,
    impact_hub_detail,
    impact_monthly_window,
    impact_summary,
    impact_summary_payload,
    public_project_as_dict,
)
from .selectors import donor_impact as donor_impact_figures

# The page polls the public JSON (impact.api) for fresh numbers; a plain path, so the page never breaks
# on a renamed route and partners can read the same address.
LIVE_URL = "/api/v1/impact/"
HUB_CODE = re.compile(r"[A-Z]{2}-[A-Z]{3}")  # as hubs.Hub holds them
LIVE_PERIOD_MS = 5000
WIDGET_PERIOD_MS = 15000  # an embedded widget sits on many partner pages at once: poll less often
CHART_MONTHS = 24
PROJECTS_PER_PAGE = 50
HEADLINES = {
    Metric.DEVICES_RECEIVED: _("devices received"),
    Metric.DEVICES_REFURBISHED: _("refurbished"),
    Metric.DEVICES_DELIVERED: _("delivered to projects"),
    Metric.BENEFICIARIES_REACHED: _("people reached"),
    Metric.EWASTE_RECYCLED_KG: _("kg of e-waste recycled"),
    Metric.EWASTE_COMPENSATED_KG: _("kg of e-waste compensated by donors (e-Resource)"),
}
# The countries Close the Gap has hubs in; any other code is shown as it is.
COUNTRY_NAMES = {
    "BE": _("Belgium"),
    "CD": _("DR Congo"),
    "KE": _("Kenya"),
    "ZA": _("South Africa"),
}


def _country(code: str) -> str:
    return str(COUNTRY_NAMES.get(code, code))


def _headlines(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": metric.value, "label": HEADLINES.get(metric, metric.label), "value": figures.get(metric.value, 0)}
        for metric in PUBLIC_METRICS
    ]


def _updated_at(summary: Mapping[str, Any]) -> datetime | None:
    updated_at = summary.get("updated_at")
    return datetime.fromisoformat(updated_at) if updated_at else None


def _month(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def _monthly_chart(monthly: Sequence[Mapping[str, Any]], *, title: str) -> dict[str, Any]:
    months = [{**m, "date": _month(m["month"])} for m in impact_monthly_window(list(monthly), months=CHART_MONTHS)]
    series = [
        Series(gettext("Devices received"), "bar-a", [m[Metric.DEVICES_RECEIVED] for m in months]),
        Series(gettext("Devices delivered"), "bar-b", [m[Metric.DEVICES_DELIVERED] for m in months]),
    ]
    return {
        "title": title,
        # Month names in the page's language: "Nov 2025", "nov. 2025", "nov 2025".
        "svg": monthly_bars(title=title, months=[date_format(m["date"], "M Y") for m in months], series=series),
        "legend": legend(series),
        "rows": months,
    }


def _kinds(by_kind: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # The cached figures carry the kind's label in the language they were built in: name it in the page's.
    return [{**k, "label": Project.Kind(k["kind"]).label} for k in by_kind]


def _kind_charts(by_kind: Sequence[Mapping[str, Any]], *, hub_name: str = "") -> dict[str, dict[str, Any]]:
    # Two charts, each on its own scale: people reached are tens of times the devices delivered.
    if hub_name:
        delivered = gettext("Devices delivered by project kind at %(hub)s") % {"hub": hub_name}
        reached = gettext("People reached by project kind at %(hub)s") % {"hub": hub_name}
    else:
        delivered = gettext("Devices delivered by project kind")
        reached = gettext("People reached by project kind")
    return {
        "delivered": {
            "title": delivered,
            "svg": horizontal_bars(
                title=delivered,
                rows=[(str(k["label"]).capitalize(), k[Metric.DEVICES_DELIVERED]) for k in by_kind],
                css_class="bar-b",
            ),
        },
        "reached": {
            "title": reached,
            "svg": horizontal_bars(
                title=reached,
                rows=[(str(k["label"]).capitalize(), k[Metric.BENEFICIARIES_REACHED]) for k in by_kind],
                css_class="bar-c",
            ),
        },
    }


def _countries(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    # Every hub country gets a row, with zeros until it has figures, so the live script has a cell to fill.
    figures = {row["country"]: row for row in summary.get("by_country", [])}
    zero = dict.fromkeys((m.value for m in PUBLIC_METRICS), 0)
    codes = sorted(figures.keys() | {hub["country"] for hub in summary.get("by_hub", [])})
    return [{**zero, **figures.get(code, {}), "country": code, "name": _country(code)} for code in codes]


def _environment(environment: Mapping[str, Any]) -> dict[str, Any]:
    # "69" and "1.44" ("1,44" in French and Dutch), not "69.0" and "1.440": a factor is shown as it was published.
    factors = [
        {**f, "value": number_format(Decimal(f"{f['kg_co2e']:g}"), force_grouping=True)}
        for f in environment.get("factors", [])
    ]
    return {**environment, "factors": factors}


def _hub_kind(hub: Mapping[str, Any]) -> dict[str, str]:
    """The hub's kind as the summary carries it (stored in English), named and described in the page's language."""
    kind = hub.get("kind") or {}
    return {
        "code": kind.get("code", ""),
        "label": gettext(kind["name"]) if kind.get("name") else "",
        "description": gettext(kind["description"]) if kind.get("description") else "",
    }


def _home_content(request: HttpRequest, summary: Mapping[str, Any]) -> SafeString:
    hubs = [
        {
            **hub,
            "kind": _hub_kind(hub),
            "cells": [{"key": metric.value, "value": hub.get(metric.value, 0)} for metric in PUBLIC_METRICS],
        }
        for hub in summary.get("by_hub", [])
    ]
    by_kind = _kinds(summary.get("by_project_kind", []))
    hub_chart_title = gettext("Devices delivered by hub")
    context = {
        "metrics": _headlines(summary),
        "hubs": hubs,
        "hub_chart": {
            "title": hub_chart_title,
            "svg": horizontal_bars(
                title=hub_chart_title,
                rows=[(hub["name"], hub.get(Metric.DEVICES_DELIVERED, 0)) for hub in hubs],
                css_class="bar-b",
            ),
        },
        "countries": _countries(summary),
        "monthly": _monthly_chart(
            summary.get("monthly", []),
            title=gettext("Devices received and delivered through the platform, last %(months)s months")
            % {"months": CHART_MONTHS},
        ),
        "months": CHART_MONTHS,
        "by_kind": by_kind,
        "kind_charts": _kind_charts(by_kind),
        "environment": _environment(summary.get("environment", {})),
        "updated_at": _updated_at(summary),
        "live_url": LIVE_URL,
        "live_period": LIVE_PERIOD_MS,
        "widget_script_url": request.build_absolute_uri(static("js/impact-widget.js")),
        "widget_url": request.build_absolute_uri(reverse("impact:widget")),
        "json_url": request.build_absolute_uri(LIVE_URL),
    }
    return mark_safe(render_to_string("impact/_home_content.html", context))


# The page body is the same for everyone until the figures change: each process keeps the body rendered
# for the current summary (by its ETag), language and host, and renders again only after a fold. Per process
# and bounded (one summary at a time, times the three languages), so nothing here needs other processes to agree.
_rendered_home: dict[tuple[str, str, str, str], SafeString] = {}


@require_GET
# Anonymous visitors get the finished page (and its gzipped copy) kept per summary and language: see page_cache.
@cached_public_page(version=lambda: impact_summary_payload().etag)
def home(request: HttpRequest) -> HttpResponse:
    payload = impact_summary_payload()  # from the cache: no query when warm
    key = (payload.etag, translation.get_language(), request.get_host(), request.scheme)
    content = _rendered_home.get(key)
    if content is None:
        # The body from the very summary the key names, so a fold landing in between cannot mislabel it.
        content = _home_content(request, payload.data)
        if any(cached[0] != payload.etag for cached in _rendered_home):
            _rendered_home.clear()  # an older summary's bodies: never served again
        _rendered_home[key] = content
    return render(request, "impact/home.html", {"content": content})


@require_GET
def hub_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A hub's public page: its totals (historic ones included), months, project kinds and public projects."""
    if code != code.upper():
        return redirect("impact:hub", code=code.upper(), permanent=True)
    hub = impact_hub_detail(code=code)  # cached: no query when warm
    if hub is None:
        raise Http404(gettext("No active hub has that code."))
    totals = hub["totals"]
    by_kind = _kinds(hub["by_project_kind"])
    # The cached balances carry their label in the language they were built in: name them in the page's.
    opening = [{**balance, "label": Metric(balance["metric"]).label} for balance in hub["opening"]]
    return render(
        request,
        "impact/hub.html",
        {
            "hub": hub,
            "totals": totals,
            "kind": _hub_kind(totals),
            "opening": opening,
            "country": _country(totals["country"]),
            "metrics": _headlines(totals),
            "monthly": _monthly_chart(
                hub["monthly"],
                title=gettext("Devices received and delivered at %(hub)s through the platform, last %(months)s months")
                % {"hub": totals["name"], "months": CHART_MONTHS},
            ),
            "months": CHART_MONTHS,
            "by_kind": by_kind,
            "kind_charts": _kind_charts(by_kind, hub_name=totals["name"]),
            "updated_at": _updated_at(hub),
            "live_url": LIVE_URL,
            "live_period": LIVE_PERIOD_MS,
        },
    )


@require_GET
def public_project_list(request: HttpRequest) -> HttpResponse:
    """Projects that agreed to appear publicly; ``?hub=KE-NBO`` narrows to one hub's. Two queries a page."""
    hub_code = request.GET.get("hub", "").upper() or None
    if hub_code is not None and not HUB_CODE.fullmatch(hub_code):
        raise Http404(gettext("No hub has that code."))
    page = Paginator(project_list_public(hub_code=hub_code), PROJECTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "impact/project_list.html",
        {
            "page": page,
            "projects": [public_project_as_dict(project) for project in page.object_list],
            "hub_code": hub_code,
        },
    )


@require_GET
def public_project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One public project; any project that did not opt in is not found, exactly like one that does not exist."""
    try:
        project = project_get_public(pk=pk)
    except Project.DoesNotExist:
        raise Http404(gettext("No public project has that number.")) from None
    # Only the dict reaches the template, so no template can reach the coordinators through the model.
    return render(
        request,
        "impact/project.html",
        {
            "project": public_project_as_dict(project),
            "country": _country(project.country),
            # Text and counts only, approved by a hub manager; never the author.
            "stories": list(
                project_story_list_public(project_id=project.pk).values("text", "devices_count", "people_count")[:5]
            ),
        },
    )


@require_GET
@xframe_options_exempt  # made to be framed by partner sites; every other page keeps X-Frame-Options: DENY
@cache_control(public=True, max_age=60)  # nothing personal on it; the script keeps the numbers fresh
def widget(request: HttpRequest) -> HttpResponse:
    summary = impact_summary()
    return render(
        request,
        "impact/widget.html",
        {
            "metrics": _headlines(summary),
            "live_url": LIVE_URL,
            "live_period": WIDGET_PERIOD_MS,
            "home_url": request.build_absolute_uri(reverse("impact:home")),
        },
    )


@login_required
def donor_impact(request: HttpRequest) -> HttpResponse:
    """ "Your impact": what the user's own organisations' donations achieved (no personal data of beneficiaries)."""
    figures = donor_impact_figures(user=request.user)
    countries = [{"name": str(country_names.name(code)) or code, "count": n} for code, n in figures["countries"]]
    return render(
        request,
        "impact/donor_impact.html",
        {**figures, "countries": countries, "environment": _environment(figures["environment"])},
    )
