"""Admin for the impact read model: opening balances (typed in by the platform admin) and counters (read-only).

Permissions follow hub membership, not Django's permission table (see ``hubs.admin``): hub staff may look at
their hubs' figures; only superusers edit opening balances and emission factors. Counters are folded from
events by ``impact.services`` and never edited by hand, by anyone.
"""

from django.contrib import admin

from hubs.admin import HubScopedAdmin, UserHubListFilter

from .models import EmissionFactor, ImpactCounter, OpeningBalance


@admin.register(OpeningBalance)
class OpeningBalanceAdmin(HubScopedAdmin):
    list_display = ("hub", "metric", "value", "note")
    list_filter = ("metric", ("hub", UserHubListFilter))
    list_select_related = ("hub",)
    search_fields = ("hub__code", "note")


@admin.register(ImpactCounter)
class ImpactCounterAdmin(HubScopedAdmin):
    list_display = ("metric", "hub", "project_kind", "month", "value")
    list_filter = ("metric", ("hub", UserHubListFilter), "project_kind")
    list_select_related = ("hub",)
    show_full_result_count = False
    ordering = ("-month", "metric", "hub__code")
    readonly_fields = ("metric", "hub", "project_kind", "month", "value")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EmissionFactor)
class EmissionFactorAdmin(HubScopedAdmin):
    hub_field = None
    list_display = ("applies_to", "label", "kg_co2e", "source", "updated_at")
    search_fields = ("applies_to", "label")
    readonly_fields = ("updated_at",)
