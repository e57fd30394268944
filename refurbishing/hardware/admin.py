"""Admin for hardware reports (read-only evidence), drives (an inline on the device) and per-drive wipes.

Writes go through ``refurbishing.hardware.services``; rows are scoped to the user's hubs by ``hubs.selectors``.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from common.pagination import CappedCountPaginator
from hubs.admin import HubScopedAdmin, HubScopedInlineMixin, ReadOnlyInlineMixin, request_is_hub_staff
from hubs.selectors import restrict_to_user_hubs
from refurbishing.errors import LifecycleError
from refurbishing.hardware.selectors import differences_in_words
from refurbishing.hardware.services import drive_create, drive_sanitisation_record_create, drive_update
from refurbishing.models.hardware import Drive, DriveSanitisation, Snapshot
from refurbishing.models.sampling import WipeSample, WipeSampleItem


def differences_html(snapshot: Snapshot):
    """The report's disagreements with the device, in words: "model: typed Latitude 5490, report Latitude E7240"."""
    rows = differences_in_words(snapshot.differences)
    if not rows:
        return _("none")
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((row,) for row in rows)))


class DriveInline(HubScopedInlineMixin, admin.TabularInline):
    """The device's drives: from its hardware report, or entered here by hand (through the drive services)."""

    model = Drive
    # Django's tabular inline without empty column headers (axe-core); it keeps the add-a-row form.
    template = "admin/edit_inline/tabular_readonly.html"
    extra = 0
    staff_can_add = True
    staff_can_change = True
    can_delete = False
    fields = ("media_type", "model", "serial_number", "size_gb", "source", "verified_wipe")
    readonly_fields = ("source", "verified_wipe")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sanitisations")

    @admin.display(description=_("verified wipe"))
    def verified_wipe(self, obj: Drive) -> str:
        if obj.pk is None:
            return "-"
        wipe = obj.verified_wipe
        return str(wipe) if wipe else str(_("not yet: record one before the device leaves the hub"))


class SnapshotInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Snapshot
    template = "admin/edit_inline/tabular_readonly.html"  # no empty column headers (axe-core)
    fields = ("created_at", "uuid", "software", "uploaded_by", "differences_shown")
    readonly_fields = fields
    verbose_name = _("hardware report")
    verbose_name_plural = _("hardware reports")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("differences from what was typed"))
    def differences_shown(self, obj: Snapshot):
        return differences_html(obj)


def save_drive_formset(request, formset) -> None:
    """Write the drive inline's new and changed rows through the services (called by ``DeviceAdmin``)."""
    for form in formset.forms:
        if not form.has_changed() or not form.is_valid():
            continue
        data = {name: form.cleaned_data.get(name) for name in ("media_type", "model", "serial_number", "size_gb")}
        data["model"] = data["model"] or ""
        data["serial_number"] = data["serial_number"] or ""
        if form.instance.pk is None:
            drive_create(device=formset.instance, actor=request.user, **data)
        else:
            changed = {name: data[name] for name in form.changed_data if name in data}
            if changed:
                drive_update(drive=form.instance, actor=request.user, fields=changed)


@admin.register(Snapshot)
class SnapshotAdmin(HubScopedAdmin):
    """Hardware reports as uploaded: evidence, never edited."""

    read_only = True
    list_display = ("created_at", "serial_number", "manufacturer", "model", "device", "hub", "uploaded_by")
    list_filter = ("hub",)
    list_select_related = ("device", "hub", "uploaded_by")
    search_fields = ("=serial_number", "=uuid")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-created_at", "-id")
    fields = (
        "uuid",
        "software",
        "software_version",
        "hub",
        "uploaded_by",
        "created_at",
        "device",
        "linked_at",
        "serial_number",
        "manufacturer",
        "model",
        "differences_shown",
        "parsed_shown",
        "raw_shown",
    )
    readonly_fields = fields

    @admin.display(description=_("differences from what was typed"))
    def differences_shown(self, obj: Snapshot):
        return differences_html(obj)

    @admin.display(description=_("what was read"))
    def parsed_shown(self, obj: Snapshot):
        parsed = obj.parsed or {}
        drives = parsed.get("drives") or []
        facts = [
            (_("CPU"), f"{parsed.get('cpu') or '-'} ({parsed.get('cpu_cores') or '?'} cores)"),
            (_("RAM (GB)"), parsed.get("ram_gb") or "-"),
            (_("type"), parsed.get("device_type") or "-"),
        ] + [
            (
                _("drive"),
                f"{d.get('media_type')} {d.get('size_gb') or '?'} GB {d.get('model')} {d.get('serial_number')}",
            )
            for d in drives
        ]
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", facts))

    @admin.display(description=_("report as sent"))
    def raw_shown(self, obj: Snapshot):
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False)[:200_000])


class DriveSanitisationForm(forms.ModelForm):
    # One labelled date-and-time input (the admin's split widget leaves its two inputs without a label).
    completed_at = forms.DateTimeField(
        label=_("completed at"),
        help_text=_("When the wipe was completed, as the tool reported it."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = DriveSanitisation
        fields = (
            "drive",
            "method",
            "technique",
            "tool",
            "tool_version",
            "verification",
            "verified",
            "operator",
            "completed_at",
            "notes",
        )


@admin.register(DriveSanitisation)
class DriveSanitisationAdmin(HubScopedAdmin):
    """Per-drive wipes: hub staff record them (through the service); a record is never edited or deleted."""

    form = DriveSanitisationForm
    hub_field = "drive__device__hub"
    staff_can_add = True
    list_display = ("completed_at", "drive_serial", "media_type", "method", "tool", "verified", "operator", "device")
    list_filter = ("method", "verified")
    list_select_related = ("drive__device", "operator")
    search_fields = ("=drive_serial", "=drive__device__serial_number")
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-completed_at", "-id")
    raw_id_fields = ("drive", "operator")

    @admin.display(description=_("device"))
    def device(self, obj: DriveSanitisation):
        return obj.drive.device

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("operator", request.user.pk)
        initial.setdefault("completed_at", timezone.now())
        return initial

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "drive":
            kwargs["queryset"] = restrict_to_user_hubs(Drive.objects.all(), user=request.user, field="device__hub")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        record = drive_sanitisation_record_create(
            drive=data.pop("drive"), recorded_by=request.user, operator=data.pop("operator"), **data
        )
        obj.pk = record.pk
        obj._state.adding = False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except LifecycleError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        except ValidationError as invalid:
            self.message_user(request, " ".join(invalid.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def has_module_permission(self, request):
        return request_is_hub_staff(request)


class WipeSampleItemInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WipeSampleItem
    template = "admin/edit_inline/tabular_readonly.html"  # no empty column headers (axe-core)
    fields = ("key", "device", "drive", "media_serial", "wiped_by", "wiped_at", "result", "verified_by", "verified_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device", "drive", "wiped_by", "verified_by")


@admin.register(WipeSample)
class WipeSampleAdmin(HubScopedAdmin):
    """Wipe verification samples (the lot is a donation): evidence, drawn by the system and never edited here.
    A picked medium is re-verified through ``POST /api/v1/wipe-samples/{id}/verify/``."""

    read_only = True
    list_display = ("picked_at", "donation", "round", "hub", "status", "decided_at")
    list_filter = ("status", "hub")
    list_select_related = ("donation", "hub")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-picked_at", "-id")
    fields = (
        "donation",
        "hub",
        "round",
        "status",
        "seed",
        "population",
        "picked_at",
        "decided_at",
        "requeued_devices",
        "devices_already_gone",
    )
    readonly_fields = fields
    inlines = (WipeSampleItemInline,)
