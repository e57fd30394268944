"""The managers' review list of moves sent from an offline scan station: the refusals and conflicts to look at.

Read-only, as the record it shows is append-only (``SyncedMove``): nothing here adds, edits or deletes a move.
Its one action, "Mark reviewed", goes through ``synced_moves_mark_reviewed``. Who sees what follows the roles of
``hubs.selectors``, where every member of a hub views and acts and only its managers manage: reviewing the hub's
refusals is managing it, so a hub's managers see every move sent for their hubs and mark them reviewed. A
technician sees only the moves they made themselves (read-only): the station shows each outcome once, and signing
out empties it, so this is where they find one again; other people's refusals are their managers' business.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.pagination import CappedCountPaginator
from hubs.admin import HubScopedAdmin, UserHubListFilter, request_is_hub_staff
from hubs.selectors import hub_ids_managed_by
from refurbishing.lifecycle import ACTION_LABELS
from refurbishing.models import SyncedMove
from refurbishing.models.sync import TO_REVIEW

from .sync import synced_move_list, synced_moves_mark_reviewed

REVIEW_ALL = "all"
REVIEW_DONE = "reviewed"


class ReviewListFilter(admin.SimpleListFilter):
    """Opens on what is left to review (refusals and conflicts nobody has marked reviewed), not on every move."""

    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [(REVIEW_DONE, _("reviewed")), (REVIEW_ALL, _("every move"))]

    def choices(self, changelist):
        # Django's first choice is "All" for no value; here no value is the review list itself.
        yield {
            "selected": self.value() not in (REVIEW_DONE, REVIEW_ALL),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("to review"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == REVIEW_ALL:
            return queryset
        if value == REVIEW_DONE:
            return queryset.filter(reviewed_at__isnull=False)
        return queryset.filter(TO_REVIEW)


@admin.register(SyncedMove)
class SyncedMoveAdmin(HubScopedAdmin):
    list_display = (
        "occurred_at",
        "recorded_at",
        "actor",
        "code",
        "device_link",
        "action_label",
        "outcome",
        "message",
        "reviewed",
    )
    list_display_links = ("occurred_at",)
    list_filter = (ReviewListFilter, "outcome", ("hub", UserHubListFilter))
    list_select_related = ("actor", "device", "hub", "reviewed_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-id",)
    fields = (
        "occurred_at",
        "recorded_at",
        "actor",
        "code",
        "device",
        "hub",
        "action",
        "fields",
        "cached_version",
        "outcome",
        "message",
        "event",
        "uuid",
        "reviewed_at",
        "reviewed_by",
    )
    readonly_fields = fields
    read_only = True  # append-only: no add, no change, no delete, for anyone
    actions = ["mark_reviewed"]

    def get_queryset(self, request):
        # The selector is the one scoped read of offline moves (managers: their hubs; others: their own moves).
        queryset = synced_move_list(user=request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_review_permission(self, request) -> bool:
        # Managers of some hub (the service keeps each one to the moves of their hubs), and superusers.
        managed = hub_ids_managed_by(user=request.user)
        return request_is_hub_staff(request) and (managed is None or bool(managed))

    @admin.action(description=_("Mark reviewed"), permissions=["review"])
    def mark_reviewed(self, request, queryset):
        count = synced_moves_mark_reviewed(user=request.user, ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d move marked reviewed.", "%(count)d moves marked reviewed.", count) % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.display(description=_("device"), ordering="device")
    def device_link(self, obj: SyncedMove) -> str:
        if obj.device_id is None:
            return _("no device at the maker's hubs")
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:refurbishing_device_change", args=[obj.device_id]), obj.device
        )

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: SyncedMove) -> str:
        return ACTION_LABELS.get(obj.action, obj.action)

    @admin.display(description=_("reviewed"), ordering="reviewed_at")
    def reviewed(self, obj: SyncedMove) -> str:
        if obj.outcome == SyncedMove.Outcome.APPLIED:
            return "—"
        if obj.reviewed_at is None:
            return _("not yet")
        return _("%(when)s, by %(who)s") % {
            "when": formats.date_format(timezone.localtime(obj.reviewed_at), "SHORT_DATETIME_FORMAT"),
            "who": obj.reviewed_by,
        }
