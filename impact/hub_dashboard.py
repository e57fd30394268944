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
from refurbishing.scan.sync import synced_move_list_to_review
from refurbishing.selectors import recycling_batch_list_open, transfer_list_open
from refurbishing.work_orders.selectors import work_order_list_open_for_hub

from .charts import Series, monthly_bars

# A chart is drawn for an action that moved devices in at least this many of the weeks shown: one bar is a
# number, not a trend, and the number is in the week-against-week table already.
CHART_MIN_WEEKS = 2
# The latest offline refusals and conflicts named on the dashboard; the admin's review list has them all.
REVIEW_LISTED = 5


@login_required
def hub_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    """What a manager acts on first (stuck devices, the wipe backlog, this week against last), then the trends."""
    hub = get_object_or_404(Hub, code=code.upper())
    if not user_is_hub_manager(user=request.user, hub_id=hub.pk):
        raise Http404(gettext("The dashboard is for the hub's managers."))
    wip = hub_work_in_progress(hub_id=hub.pk)
    stuck = hub_stuck_devices(hub_id=hub.pk)
    throughput = hub_weekly_throughput(hub_id=hub.pk)
    week_labels = [date_format(week, "MONTH_DAY_FORMAT") for week in throughput.weeks]
    by_action = sorted(throughput.by_action.items(), key=lambda item: -sum(item[1]))
    this_week = [
        {
            "label": str(ACTION_LABELS.get(action, action)),
            "this": counts[-1],
            "last": counts[-2] if len(counts) > 1 else 0,
            "change": counts[-1] - (counts[-2] if len(counts) > 1 else 0),
        }
        for action, counts in by_action
        if counts[-1] or (len(counts) > 1 and counts[-2])
    ]
    charts = []
    for action, counts in by_action:
        if sum(1 for count in counts if count) < CHART_MIN_WEEKS:
            continue
        label = str(ACTION_LABELS.get(action, action))
        title = gettext("%(action)s at %(hub)s, devices per week") % {"action": label, "hub": hub.code}
        charts.append(
            {
                "label": label,
                "total": sum(counts),
                "svg": monthly_bars(title=title, months=week_labels, series=[Series(label, "bar-a", counts)]),
            }
        )
    moved = [(action, counts) for action, counts in by_action if sum(counts)]
    to_review = synced_move_list_to_review(user=request.user, hub_id=hub.pk)
    review_count = to_review.count()
    return render(
        request,
        "impact/hub_dashboard.html",
        {
            "hub": hub,
            # Only the states that hold devices: a table of zeros says nothing.
            "wip": [(DeviceState(state).label, count) for state, count in wip.items() if count],
            "wip_total": sum(wip.values()),
            "stuck": stuck,
            "stuck_rows": [(DeviceState(state).label, count) for state, count in stuck["by_state"].items() if count],
            "stuck_total": sum(stuck["by_state"].values()),
            "backlog": hub_sanitisation_backlog(hub_id=hub.pk),
            "this_week": this_week,
            "this_week_start": throughput.weeks[-1] if throughput.weeks else None,
            "weeks": len(throughput.weeks),
            "charts": charts,
            "table_weeks": [
                (label, counts)
                for label, counts in zip(week_labels, zip(*(c for _a, c in moved), strict=True), strict=True)
                if any(counts)
            ]
            if moved
            else [],
            "table_actions": [str(ACTION_LABELS.get(a, a)) for a, _c in moved],
            "batches": list(recycling_batch_list_open(hub_id=hub.pk)),
            "transfers": list(transfer_list_open(hub_id=hub.pk)),
            "work_orders": work_order_list_open_for_hub(hub_id=hub.pk),
            # Shown only when there is something to review: a fresh hub's dashboard stays short.
            "review_count": review_count,
            "review_latest": [
                {"move": move, "action": ACTION_LABELS.get(move.action, move.action)}
                for move in (to_review[:REVIEW_LISTED] if review_count else [])
            ],
        },
    )
