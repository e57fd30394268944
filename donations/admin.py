"""Admin for donors and donations, scoped to the hubs the staff user works at.

Permissions follow hub membership, not Django's permission table (see ``hubs.admin``). Donations are created by
donors (the portal's pledge form) through ``donations.services``, so the admin never adds one; hub staff may
update a donation's pickup and check-in details, and see (never edit) its devices.
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from hubs.admin import HubScopedAdmin, UserHubListFilter, request_is_superuser
from hubs.selectors import hub_ids_for_user, hub_ids_managed_by, restrict_to_user_hubs
from refurbishing.selectors import device_list_for_donation

from .models import Donation, Donor, EResourceAllocation, EResourceCommitment, EvidenceArchive

# The donation page lists this many of its devices; the rest are one click away in the device list.
DEVICES_SHOWN = 50


@admin.register(Donor)
class DonorAdmin(HubScopedAdmin):
    """Donor organisations; hub staff see those that donated to their hubs, the platform admin edits them."""

    hub_field = None
    list_display = ("legal_name", "registration_number", "country", "contact_name", "created_at")
    list_filter = ("country",)
    search_fields = ("legal_name", "=registration_number")
    show_full_result_count = False
    raw_id_fields = ("users",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = hub_ids_for_user(user=request.user)
        if ids is None:
            return queryset
        # EXISTS rather than a join + DISTINCT: one donor may have thousands of donations.
        donated_here = Donation.objects.filter(donor=OuterRef("pk"), hub_id__in=ids)
        return queryset.filter(Exists(donated_here))


@admin.register(Donation)
class DonationAdmin(HubScopedAdmin):
    staff_can_change = True
    list_display = ("reference", "donor", "hub", "status", "pledged_at", "pickup_date", "received_at")
    list_filter = ("status", ("hub", UserHubListFilter))
    list_select_related = ("donor", "hub")
    search_fields = ("=reference", "donor__legal_name")
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-pledged_at", "-id")
    raw_id_fields = ("donor",)
    fieldsets = (
        (None, {"fields": ("reference", "donor", "hub", "status")}),
        (_("Pickup and check-in"), {"fields": ("pickup_address", "pickup_date", "received_at", "notes")}),
        (pgettext_lazy("admin fieldset", "Record"), {"fields": ("pledged_at", "created_by")}),
        (_("Devices"), {"fields": ("device_overview",)}),
    )

    def has_add_permission(self, request):
        # A donation gets its reference and its pledged devices from donations.services.donation_pledge.
        return False

    def get_readonly_fields(self, request, obj=None):
        # Status and arrival follow the devices (donations.services.donation_sync_status), never a hand edit.
        readonly = ["reference", "donor", "status", "received_at", "pledged_at", "created_by", "device_overview"]
        if not request_is_superuser(request):
            # Moving a pledge between hubs is the platform admin's call, not one hub's.
            readonly.append("hub")
        return readonly

    @admin.display(description=_("devices"))
    def device_overview(self, obj: Donation):
        if obj is None or obj.pk is None:
            return "-"
        devices = device_list_for_donation(donation_id=obj.pk)
        total = devices.count()
        if not total:
            return _("No devices registered.")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:refurbishing_device_change", args=[device.pk]),
                    device.pk,
                    device.serial_number or "-",
                    device.asset_tag or "-",
                    f"{device.get_category_display()} {device.manufacturer} {device.model}".strip(),
                    device.get_state_display(),
                    device.hub.code,
                )
                for device in devices[:DEVICES_SHOWN]
            ),
        )
        changelist = reverse("admin:refurbishing_device_changelist") + f"?donation={obj.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            '<tbody>{}</tbody></table><p>{} <a href="{}">{}</a></p>',
            _("id"),
            _("serial number"),
            _("asset tag"),
            _("device"),
            _("state"),
            _("hub"),
            rows,
            ngettext("Showing %(shown)d of %(total)d device.", "Showing %(shown)d of %(total)d devices.", total)
            % {"shown": min(total, DEVICES_SHOWN), "total": total},
            changelist,
            _("Open them in the device list"),
        )


class EResourceAllocationInline(admin.TabularInline):
    """The kilograms each batch gave the commitment: written by the allocation only, never by hand."""

    model = EResourceAllocation
    extra = 0
    can_delete = False
    fields = ("source", "kg", "allocated_at", "impact_counted")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DonorDocumentAdmin(HubScopedAdmin):
    """A donor's documents (e-Resource commitments, yearly reports), read only: made by the donor on its portal or
    by a service, never by hand. Superusers see them all; hub staff those of donors that donated to their hubs."""

    hub_field = None
    read_only = True

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = hub_ids_for_user(user=request.user)
        if ids is None:
            return queryset
        return queryset.filter(Exists(Donation.objects.filter(donor=OuterRef("donor_id"), hub_id__in=ids)))


@admin.register(EResourceCommitment)
class EResourceCommitmentAdmin(DonorDocumentAdmin):
    """Donors' e-Resource commitments and their progress: donors make them on the portal, and the allocation
    fills them."""

    list_display = ("donor", "basis", "devices", "target_kg", "allocated_kg", "status", "created_at", "covered_at")
    list_filter = ("status", "basis")
    list_select_related = ("donor",)
    search_fields = ("donor__legal_name", "=certificate_number")
    ordering = ("created_at", "id")
    readonly_fields = (
        "donor",
        "basis",
        "devices",
        "target_kg",
        "allocated_kg",
        "status",
        "created_at",
        "created_by",
        "covered_at",
        "certificate_number",
    )
    fields = readonly_fields
    inlines = [EResourceAllocationInline]


@admin.register(EResourceAllocation)
class EResourceAllocationAdmin(HubScopedAdmin):
    """Kilograms of batches dispatched at African hubs allocated to commitments; hub staff see their hubs' batches."""

    hub_field = "source__batch__hub"
    read_only = True
    list_display = ("source", "commitment", "kg", "allocated_at", "impact_counted")
    list_select_related = ("source__batch", "commitment__donor")
    search_fields = ("=source__batch__reference", "commitment__donor__legal_name")
    ordering = ("-allocated_at", "-id")
    fields = ("source", "commitment", "kg", "allocated_at", "impact_counted")
    readonly_fields = fields


@admin.register(EvidenceArchive)
class EvidenceArchiveAdmin(HubScopedAdmin):
    """Evidence archives asked for by hub managers (built by a Celery task, downloaded at /evidence/<id>/):
    listed to the managers of their hub only, never edited."""

    read_only = True
    # Its changelist (templates/admin/donations/evidencearchive/) offers "Build an archive": the evidence page.
    list_display = ("created_at", "hub", "date_from", "date_to", "requested_by", "status", "size", "open_link")
    list_filter = ("status", "hub")
    list_select_related = ("hub", "requested_by")
    ordering = ("-created_at", "-id")
    fields = (
        "open_link",
        "hub",
        "date_from",
        "date_to",
        "requested_by",
        "status",
        "total",
        "done",
        "file_name",
        "size",
        "sha256",
        "error",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return restrict_to_user_hubs(
            super(HubScopedAdmin, self).get_queryset(request), user=request.user, field="hub", action="manage"
        )

    @admin.display(description=_("archive"))
    def open_link(self, obj: EvidenceArchive) -> str:
        """The archive's own page: its progress, and its download once built (listed only to its hub's managers)."""
        label = _("Download the archive") if obj.status == EvidenceArchive.Status.DONE else _("Progress")
        done = obj.status == EvidenceArchive.Status.DONE
        url = reverse("evidence:download" if done else "evidence:archive", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, label)

    def has_module_permission(self, request):
        ids = hub_ids_managed_by(user=request.user)
        return ids is None or bool(ids)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)
