"""Public pages: the live impact totals."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .models import Metric
from .selectors import PUBLIC_METRICS, impact_summary

# The page polls the public JSON (impact.api) for fresh numbers; a plain path, so the page never breaks
# on a renamed route and partners can read the same address.
LIVE_URL = "/api/v1/impact/"
HEADLINES = {
    Metric.DEVICES_RECEIVED: _("devices received"),
    Metric.DEVICES_REFURBISHED: _("refurbished"),
    Metric.DEVICES_DELIVERED: _("delivered to projects"),
    Metric.BENEFICIARIES_REACHED: _("people reached"),
    Metric.EWASTE_RECYCLED_KG: _("kg of e-waste recycled"),
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    summary = impact_summary()  # from the cache: no query when warm
    metrics = [
        {"key": metric.value, "label": HEADLINES.get(metric, metric.label), "value": summary.get(metric.value, 0)}
        for metric in PUBLIC_METRICS
    ]
    hubs = [
        {**hub, "cells": [{"key": metric.value, "value": hub.get(metric.value, 0)} for metric in PUBLIC_METRICS]}
        for hub in summary.get("by_hub", [])
    ]
    updated_at = summary.get("updated_at")
    return render(
        request,
        "impact/home.html",
        {
            "metrics": metrics,
            "hubs": hubs,
            "updated_at": datetime.fromisoformat(updated_at) if updated_at else None,
            "live_url": LIVE_URL,
        },
    )
