"""A hub's dashboard for its managers: where work piles up, what is stuck, and the weekly throughput."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import date_format
from django.utils.translation import gettext

from hubs.models import Hub
from hubs.selectors import user_is_hub_manager
from refurbishing.dashboard import (
    hub_sanitisation_backlog,
    hub_stuck_devices,
    hub_weekly_throughput,
    hub_work_in_progress,
)
from refurbishing.lifecycle import ACTION_LABELS
from refurbishing.models import DeviceState
from refurbishing.selectors import recycling_batch_list_open, transfer_list_open

from .charts import Series, monthly_bars


@login_required
def hub_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    hub = get_object_or_404(Hub, code=code.upper())
    if not user_is_hub_manager(user=request.user, hub_id=hub.pk):
        raise Http404(gettext("The dashboard is for the hub's managers."))
    wip = hub_work_in_progress(hub_id=hub.pk)
    stuck = hub_stuck_devices(hub_id=hub.pk)
    throughput = hub_weekly_throughput(hub_id=hub.pk)
    week_labels = [date_format(week, "SHORT_DATE_FORMAT") for week in throughput.weeks]
    charts = []
    for action, counts in sorted(throughput.by_action.items(), key=lambda item: -sum(item[1])):
        label = str(ACTION_LABELS.get(action, action))
        title = gettext("%(action)s at %(hub)s, devices per week") % {"action": label, "hub": hub.code}
        charts.append(
            {
                "label": label,
                "total": sum(counts),
                "svg": monthly_bars(title=title, months=week_labels, series=[Series(label, "bar-a", counts)]),
            }
        )
    return render(
        request,
        "impact/hub_dashboard.html",
        {
            "hub": hub,
            "wip": [(DeviceState(state).label, count) for state, count in wip.items()],
            "wip_total": sum(wip.values()),
            "stuck": stuck,
            "stuck_rows": [(DeviceState(state).label, count) for state, count in stuck["by_state"].items()],
            "stuck_total": sum(stuck["by_state"].values()),
            "backlog": hub_sanitisation_backlog(hub_id=hub.pk),
            "weeks": len(throughput.weeks),
            "charts": charts,
            "table_weeks": list(zip(week_labels, zip(*throughput.by_action.values(), strict=True), strict=True))
            if throughput.by_action
            else [],
            "table_actions": [str(ACTION_LABELS.get(a, a)) for a in throughput.by_action],
            "batches": list(recycling_batch_list_open(hub_id=hub.pk)),
            "transfers": list(transfer_list_open(hub_id=hub.pk)),
        },
    )
