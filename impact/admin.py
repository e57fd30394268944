"""Admin for the impact read model: opening balances (typed in by the platform admin) and counters (read-only).

Permissions follow hub membership, not Django's permission table (see ``hubs.admin``): hub staff may look at
their hubs' figures; only superusers edit opening balances and emission factors. Counters are folded from
events by ``impact.services`` and never edited by hand, by anyone.
"""

from django.contrib import admin
from django.db import models

from donations.admin import DonorDocumentAdmin
from hubs.admin import HubScopedAdmin, UserHubListFilter

from .models import EmissionFactor, ImpactCounter, OpeningBalance, YearlyReport


@admin.register(OpeningBalance)
class OpeningBalanceAdmin(HubScopedAdmin):
    list_display = ("hub", "metric", "value", "note")
    list_filter = ("metric", ("hub", UserHubListFilter))
    list_select_related = ("hub",)
    search_fields = ("hub__code", "note")


@admin.register(ImpactCounter)
class ImpactCounterAdmin(HubScopedAdmin):
    list_display = ("metric", "hub", "project_kind", "device_category", "month", "value")
    list_filter = ("metric", ("hub", UserHubListFilter), "project_kind", "device_category")
    list_select_related = ("hub",)
    show_full_result_count = False
    ordering = ("-month", "metric", "hub__code")
    read_only = True  # derived from events only; reconcile_impact repairs drift
    readonly_fields = ("metric", "hub", "project_kind", "device_category", "month", "value")


@admin.register(EmissionFactor)
class EmissionFactorAdmin(HubScopedAdmin):
    hub_field = None
    list_display = ("applies_to", "label", "kg_co2e", "source", "updated_at")
    search_fields = ("applies_to", "label")
    readonly_fields = ("updated_at",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a source typed without a scheme

    # Besides superusers, whoever the platform admin grants "Can change emission factor" (e.g. the
    # communications team) keeps the published factors up to date.
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or request.user.has_perm("impact.change_emissionfactor")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm("impact.view_emissionfactor")

    def has_module_permission(self, request):
        return super().has_module_permission(request) or request.user.has_perm("impact.change_emissionfactor")


@admin.register(YearlyReport)
class YearlyReportAdmin(DonorDocumentAdmin):
    """Donors' yearly reports: issued from the donor portal, never edited (the database refuses it)."""

    list_display = ("number", "donor_name", "year", "issued_at", "supersedes")
    list_filter = ("year",)
    list_select_related = ("supersedes",)
    search_fields = ("=number", "donor_name")
    ordering = ("-year", "-issued_at", "-id")
    readonly_fields = (
        "number",
        "donor",
        "donor_name",
        "year",
        "time_zone",
        "issued_at",
        "issued_by",
        "supersedes",
        "reason",
        "last_event_id",
        "figures",
        "factors",
    )
    fields = readonly_fields
    show_full_result_count = False
