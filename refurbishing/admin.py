"""Hub staff's admin for devices: scoped lists, edits through the services, and a bulk action per lifecycle move.

Permissions follow hub membership, not Django's permission table (see ``hubs.admin``): staff of a hub see and
edit that hub's devices and may run lifecycle actions on them; only superusers may add devices. Every write goes
through ``refurbishing.services`` or ``refurbishing.actions.device_perform_action``; ``DeviceEvent`` and the
sanitisation and inspection records are shown and never written here.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from common.pagination import CappedCountPaginator
from hubs.admin import (
    HubScopedAdmin,
    ReadOnlyInlineMixin,
    UserHubListFilter,
    render_action_form,
    request_is_hub_staff,
    request_is_partner_staff,
    request_is_superuser,
)
from hubs.models import Hub
from hubs.selectors import restrict_to_user_hubs
from refurbishing.scan.responses import labels_response

from .actions import action_form_class
from .bulk.services import bulk_device_ids, bulk_fields_from_cleaned, bulk_job_max_devices, bulk_job_start
from .errors import LifecycleError
from .filters import parse_row_id
from .hardware.admin import DriveInline, SnapshotInline, save_drive_formset
from .history.timeline import device_timeline
from .lifecycle import ACTION_LABELS, ACTIONS, actions_from, transitions_for
from .models import BulkJob, ConfigurationRecord, Device, DeviceEvent, InspectionRecord, SanitisationRecord
from .selectors import device_list
from .services import EDITABLE_FIELDS, REGISTERABLE_FIELDS, device_register_many, device_update
from .work_orders.services import work_order_actions_for

# Labels printed from one selection, at most (a bigger PDF is better made from a filtered list).
LABELS_MAX_DEVICES = 500
# Refusals beyond this many are summed up in one message rather than listed one by one.
REFUSALS_LISTED = 25
# How many recent donations the donation filter offers (any other is reachable with ?donation=<id>).
DONATION_FILTER_CHOICES = 15
ACTION_FORM_PREFIX = "lifecycle"
# The details page names this many of the selected devices and counts the rest.
SELECTION_LISTED = 20


class RecentDonationFilter(admin.SimpleListFilter):
    """Filter by donation without listing every donation: the user's most recent ones, or any id in the URL."""

    title = _("donation")
    parameter_name = "donation"

    def lookups(self, request, model_admin):
        # The donation model by reference, so the core keeps importing nothing from the donations app.
        donation_model = Device._meta.get_field("donation").related_model
        recent = restrict_to_user_hubs(donation_model._default_manager.all(), user=request.user).order_by(
            "-pledged_at", "-pk"
        )[:DONATION_FILTER_CHOICES]
        return [(str(pk), reference) for pk, reference in recent.values_list("pk", "reference")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        donation_id = parse_row_id(value)
        return queryset.none() if donation_id is None else queryset.filter(donation_id=donation_id)


class SanitisationRecordInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = SanitisationRecord
    template = "admin/edit_inline/tabular_readonly.html"  # no empty column headers (axe-core)
    fields = ("completed_at", "method", "technique", "tool", "tool_version", "verification", "verified", "operator")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("operator")


class InspectionRecordInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = InspectionRecord
    template = "admin/edit_inline/tabular_readonly.html"  # no empty column headers (axe-core)
    fields = ("inspected_at", "passed", "grade", "notes", "inspector")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("inspector")


class ConfigurationRecordInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ConfigurationRecord
    template = "admin/edit_inline/tabular_readonly.html"  # no empty column headers (axe-core)
    fields = ("configured_at", "operating_system", "os_version", "keyboard_layout", "language", "licence", "notes")
    readonly_fields = fields


class DeviceAdminForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ("donation", *EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "hub" in self.fields:
            self.fields["hub"].error_messages["invalid_choice"] = _("You can only move a device to a hub you work at.")


def _needs_form(action: str, form_class: type[forms.Form]) -> bool:
    """Whether the action asks for details first: it records something, or its form has a required field."""
    if any(t.needs for t in transitions_for(action)):
        return True
    return any(field.required for field in form_class.base_fields.values())


def _make_lifecycle_action(action: str):
    def lifecycle_action(modeladmin, request, queryset):
        return modeladmin.run_lifecycle_action(request, queryset, action)

    lifecycle_action.__name__ = f"lifecycle_{action}"
    return admin.action(description=ACTION_LABELS[action], permissions=["lifecycle"])(lifecycle_action)


@admin.register(Device)
class DeviceAdmin(HubScopedAdmin):
    form = DeviceAdminForm
    staff_can_change = True
    # A partner's users see the devices of their open work orders and move them with the lifecycle actions.
    partner_visible = True
    list_display = (
        "id",
        "serial_number",
        "asset_tag",
        "category",
        "make_and_model",
        "state_and_grade",
        "hub",
        "donation_reference",
    )
    list_display_links = ("id", "serial_number")
    list_filter = (
        "state",
        "category",
        "grade",
        "weee_category",
        "weight_basis",
        ("hub", UserHubListFilter),
        RecentDonationFilter,
    )
    # Exact matches on the indexed columns (see get_search_results): fast on millions of rows.
    search_fields = ("=serial_number", "=asset_tag")
    search_help_text = _("Exact serial number or asset tag; end with * to match the beginning.")
    list_select_related = ("hub", "donation")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-id",)
    raw_id_fields = ("donation",)
    fieldsets = (
        (None, {"fields": ("donation", "hub", "state", "next_actions", "label", "version", "grade")}),
        (_("Description"), {"fields": tuple(name for name in REGISTERABLE_FIELDS if name != "weight_kg")}),
        (
            _("Weight and WEEE category"),
            {
                "fields": ("weight_kg", "weight_basis", "weight_source", "weee_category"),
                "description": _(
                    "A weight typed here is declared; one weighed at inspection is measured. Left empty, the typical "
                    "weight of the model or category applies (refurbishing/data/device_weights.csv)."
                ),
            },
        ),
        (pgettext_lazy("admin fieldset", "Record"), {"fields": ("created_at", "updated_at")}),
        (_("History (chain of custody)"), {"fields": ("history", "offline_moves")}),
    )
    inlines = (
        SanitisationRecordInline,
        InspectionRecordInline,
        ConfigurationRecordInline,
        DriveInline,
        SnapshotInline,
    )
    actions = [
        *(_make_lifecycle_action(action) for action in ACTIONS),
        "print_labels_a4",
        "print_labels_tape",
    ]

    # Scope, permissions

    def get_queryset(self, request):
        # The selector is the one scoped read of devices (all of them for a superuser).
        queryset = device_list(user=request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_add_permission(self, request):
        # New devices come from donors' pledges (donations.services); the platform admin may add a stray one here.
        return request_is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        # The chain of custody refers to the device; it is never deleted, only recycled or marked missing.
        return False

    def has_lifecycle_permission(self, request):
        return request_is_hub_staff(request) or request_is_partner_staff(request)

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "state",
            "next_actions",
            "label",
            "version",
            "grade",
            "weight_basis",
            "weight_source",
            "created_at",
            "updated_at",
            "history",
            "offline_moves",
        ]
        if obj is not None:
            readonly.insert(0, "donation")
        return readonly

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # The device page: its history in words, the moves it may make next, its label

    @admin.display(description=_("history"))
    def history(self, obj: Device) -> str:
        if obj.pk is None:
            return "—"
        return render_to_string("refurbishing/_timeline.html", {"timeline": device_timeline(device=obj)})

    def get_object(self, request, object_id, from_field=None):
        device = super().get_object(request, object_id, from_field)
        if device is not None:
            # The page's next-action buttons are the viewer's: a partner's user sees only the steps their work
            # order lets through (the same rule as the API's allowed_actions and the lifecycle's guard).
            device.admin_viewer = request.user
        return device

    @admin.display(description=_("offline moves"))
    def offline_moves(self, obj: Device) -> str:
        # The list itself shows each person what they may see of them (see refurbishing.scan.admin).
        if obj.pk is None or not obj.synced_moves.exists():
            return "—"
        url = reverse("admin:refurbishing_syncedmove_changelist")
        return format_html(
            '<a href="{}?device={}&amp;review=all">{}</a>', url, obj.pk, _("Moves sent from an offline scan station")
        )

    @admin.display(description=_("next actions"))
    def next_actions(self, obj: Device) -> str:
        actions = actions_from(obj.state) if obj.pk else []
        viewer = getattr(obj, "admin_viewer", None)
        if actions and viewer is not None:
            actions = work_order_actions_for(device=obj, actor=viewer, actions=actions)
        if not actions:
            return "—"
        return format_html(
            '<span class="device-actions">{}</span>',
            format_html_join(
                " ",
                '<a class="button" href="{}">{}</a>',
                (
                    (reverse("admin:refurbishing_device_lifecycle", args=[obj.pk, action]), ACTION_LABELS[action])
                    for action in actions
                ),
            ),
        )

    @admin.display(description=_("label"))
    def label(self, obj: Device) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '{} · <a href="{}">{}</a> · <a href="{}?ids={}&amp;layout=a4">{}</a> · '
            '<a href="{}?ids={}&amp;layout=tape">{}</a>',
            obj.label_code,
            reverse("scan:device", args=[obj.label_code]),
            _("open on the scan station"),
            reverse("scan:labels"),
            obj.pk,
            _("print (A4 sheet)"),
            reverse("scan:labels"),
            obj.pk,
            _("print (62 mm tape)"),
        )

    def get_urls(self):
        lifecycle = path(
            "<int:object_id>/lifecycle/<str:action>/",
            self.admin_site.admin_view(self.lifecycle_view),
            name="refurbishing_device_lifecycle",
        )
        return [lifecycle, *super().get_urls()]

    def lifecycle_view(self, request, object_id: int, action: str):
        """One device's next move from its page: the action's form, then the same bulk path with one device."""
        if action not in ACTIONS or not self.has_lifecycle_permission(request):
            raise Http404
        queryset = self.get_queryset(request).filter(pk=object_id)
        if not queryset.exists():
            raise Http404
        if request.method != "POST":
            form = self._action_form(request, action_form_class(action))
            return self._render_action_form(
                request, action=action, form=form, device_ids=[object_id], queryset=queryset
            )
        response = self.run_lifecycle_action(request, queryset, action)
        if response is not None:
            return response
        return redirect("admin:refurbishing_device_change", object_id)

    # Labels

    def _print_labels(self, request, queryset, layout: str):
        devices = list(queryset.select_related("hub").order_by("pk")[:LABELS_MAX_DEVICES])
        return labels_response(request, devices, layout=layout, filename="labels")

    @admin.action(description=_("Print labels (A4 sheet, 3 × 8)"), permissions=["lifecycle"])
    def print_labels_a4(self, request, queryset):
        return self._print_labels(request, queryset, "a4")

    @admin.action(description=_("Print labels (62 mm tape)"), permissions=["lifecycle"])
    def print_labels_tape(self, request, queryset):
        return self._print_labels(request, queryset, "tape")

    # List columns

    @admin.display(description=_("state"), ordering="state")
    def state_and_grade(self, obj: Device) -> str:
        # One column for both: a grade only exists once a device passed inspection.
        if obj.grade:
            return _("%(state)s, grade %(grade)s") % {"state": obj.get_state_display(), "grade": obj.grade}
        return obj.get_state_display()

    @admin.display(description=_("make and model"), ordering="manufacturer")
    def make_and_model(self, obj: Device) -> str:
        return f"{obj.manufacturer} {obj.model}".strip()

    @admin.display(description=_("donation"), ordering="donation__reference")
    def donation_reference(self, obj: Device) -> str:
        return obj.donation.reference

    def get_search_results(self, request, queryset, search_term):
        # Case-sensitive equality (and prefix with a trailing *) keeps the btree indexes on serial_number and
        # asset_tag usable; Django's own "=" lookups are case-insensitive, which PostgreSQL cannot index-match.
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.endswith("*") and len(term) > 1:
            prefix = term[:-1]
            condition = (
                Q(serial_number__startswith=prefix)
                | Q(serial_number__startswith=prefix.upper())
                | Q(asset_tag__startswith=prefix)
            )
        else:
            variants = {term, term.upper()}
            condition = Q(serial_number__in=variants) | Q(asset_tag__in=variants)
        return queryset.filter(condition), False

    # Saving through the services

    def save_model(self, request, obj, form, change):
        if not change:
            rows = [{name: form.cleaned_data[name] for name in REGISTERABLE_FIELDS if name in form.cleaned_data}]
            (created,) = device_register_many(
                donation=form.cleaned_data["donation"],
                hub=form.cleaned_data["hub"],
                actor=request.user,
                rows=rows,
            )
            # The admin goes on with the form's instance (log entry, redirect): give it the new row's identity.
            obj.pk = created.pk
            obj._state.adding = False
            return
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        if fields:
            device_update(device=obj, actor=request.user, fields=fields)
        self.check_still_in_scope(request, obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is DriveInline.model:  # drives are written here, through the drive services
            save_drive_formset(request, formset)
        # The inlines (history, sanitisation, inspection) are read-only: nothing in them is ever written here.
        # The admin's change message still reads what a save would have done.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The service is the last word on an edit (hub rules, a device that left the hub's care, a race). A
        # refusal raised in save_model rolls back the admin's whole transaction (nothing saved, no log entry);
        # the user is sent back to the unchanged device with the reason.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except LifecycleError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        except ValidationError as invalid:
            self.message_user(request, " ".join(invalid.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    # Lifecycle bulk actions

    def _action_form(self, request, form_class: type[forms.Form], data=None) -> forms.Form:
        form = form_class(data=data, prefix=ACTION_FORM_PREFIX)
        # Choices of hubs and projects offer only the user's hubs (the services check again when moving).
        for field in form.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is None:
                continue
            if queryset.model is Hub:
                field.queryset = restrict_to_user_hubs(queryset, user=request.user, field="pk")
            elif any(f.name == "hub" for f in queryset.model._meta.get_fields()):
                field.queryset = restrict_to_user_hubs(queryset, user=request.user)
        return form

    def _render_action_form(self, request, *, action: str, form: forms.Form, device_ids: list[int], queryset):
        return render_action_form(
            self,
            request,
            action_name=f"lifecycle_{action}",
            title=ACTION_LABELS[action],
            intro=ngettext("%(count)d device selected:", "%(count)d devices selected:", len(device_ids))
            % {"count": len(device_ids)},
            form=form,
            selected_ids=device_ids,
            selected_objects=queryset.filter(pk__in=device_ids[:SELECTION_LISTED]).order_by("pk"),
        )

    def run_lifecycle_action(self, request, queryset, action: str):
        """Apply ``action`` to the selected devices one by one, asking for its details first where it needs them."""
        form_class = action_form_class(action)
        device_ids = bulk_device_ids(queryset=queryset)
        if len(device_ids) > bulk_job_max_devices():
            self.message_user(
                request,
                _("Select at most %(max)d devices for one action; filter the list to fewer devices.")
                % {"max": bulk_job_max_devices()},
                messages.ERROR,
            )
            return None

        fields: dict[str, Any] = {}
        if _needs_form(action, form_class):
            if "apply" not in request.POST:
                form = self._action_form(request, form_class)
                return self._render_action_form(
                    request, action=action, form=form, device_ids=device_ids, queryset=queryset
                )
            form = self._action_form(request, form_class, data=request.POST)
            if not form.is_valid():
                return self._render_action_form(
                    request, action=action, form=form, device_ids=device_ids, queryset=queryset
                )
            fields = bulk_fields_from_cleaned(form.cleaned_data)

        # A Celery task moves them chunk by chunk, each device through the lifecycle service with its own event.
        try:
            job = bulk_job_start(actor=request.user, action=action, device_ids=device_ids, fields=fields)
        except LifecycleError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        if not job.finished:
            return redirect("scan:bulk-job", job.pk)
        self._report_bulk_job(request, job)
        return None

    def _report_bulk_job(self, request, job: BulkJob) -> None:
        """A job that finished in the request (a small one without a worker): its outcome as admin messages."""
        label = ACTION_LABELS[job.action]
        if job.moved:
            self.message_user(
                request,
                ngettext(
                    "%(label)s: %(count)d device moved.",
                    "%(label)s: %(count)d devices moved.",
                    job.moved,
                )
                % {"label": label, "count": job.moved},
                messages.SUCCESS,
            )
        if job.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(label)s: %(count)d device was already there and was left as it was.",
                    "%(label)s: %(count)d devices were already there and were left as they were.",
                    job.skipped,
                )
                % {"label": label, "count": job.skipped},
                messages.INFO,
            )
        for row in job.refused[:REFUSALS_LISTED]:
            self.message_user(
                request,
                _("%(label)s refused for %(device)s (#%(id)d): %(reason)s")
                % {"label": label, "device": row["device"], "id": row["id"], "reason": row["reason"]},
                messages.ERROR,
            )
        if len(job.refused) > REFUSALS_LISTED:
            self.message_user(
                request,
                ngettext(
                    "… and %(count)d more device was refused.",
                    "… and %(count)d more devices were refused.",
                    len(job.refused) - REFUSALS_LISTED,
                )
                % {"count": len(job.refused) - REFUSALS_LISTED},
                messages.ERROR,
            )


class EventActionFilter(admin.SimpleListFilter):
    """The declared actions, not ``SELECT DISTINCT action`` over every event (a full scan of millions per page)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [("pledge", pgettext_lazy("device action", "pledge")), *((a, ACTION_LABELS[a]) for a in ACTIONS)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(DeviceEvent)
class DeviceEventAdmin(HubScopedAdmin):
    """The chain of custody, read-only: events are appended by the lifecycle service and never edited."""

    hub_field = "device__hub"
    list_display = ("id", "device", "action", "from_state", "to_state", "hub", "actor", "occurred_at")
    list_filter = (EventActionFilter, "to_state")
    list_select_related = ("device", "hub", "actor")
    search_fields = ("=device__serial_number", "=device__asset_tag")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-id",)
    fields = ("device", "action", "from_state", "to_state", "actor", "hub", "occurred_at", "note", "data")
    readonly_fields = fields
    read_only = True

    def get_search_results(self, request, queryset, search_term):
        # The device's exact serial number or asset tag (indexed), as on the device list; Django's "=" would be
        # a case-insensitive match through a join that no index serves.
        term = search_term.strip()
        if not term:
            return queryset, False
        variants = {term, term.upper()}
        devices = Device.objects.filter(Q(serial_number__in=variants) | Q(asset_tag__in=variants)).values("pk")
        return queryset.filter(device_id__in=devices), False


from refurbishing.recycling import admin as admin_recycling  # noqa: E402, F401  (batches, partners)
from refurbishing.scan import admin as admin_scan  # noqa: E402, F401  (the review list of offline moves)
from refurbishing.transfers import admin as admin_transfers  # noqa: E402, F401
from refurbishing.work_orders import admin as admin_work_orders  # noqa: E402, F401
