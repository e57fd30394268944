"""Admin for beneficiary projects, their device requests and shipments, scoped to the staff user's hubs.

Permissions follow hub membership, not Django's permission table (see ``hubs.admin``). Shipments are created by
allocation and moved only by ``projects.services`` (the "Ship" and "Confirm delivery" actions), so nobody edits a
shipment's status or devices by hand.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hubs.admin import (
    HubScopedAdmin,
    HubScopedInlineMixin,
    UserHubListFilter,
    render_action_form,
    request_is_hub_staff,
    request_is_superuser,
)
from hubs.selectors import restrict_to_user_hubs
from refurbishing.errors import LifecycleError
from refurbishing.forms import BENEFICIARIES_MAX

from .models import DeviceRequest, Project, Shipment
from .services import shipment_deliver, shipment_ship

# A shipment page lists this many of its devices.
DEVICES_SHOWN = 50
# One delivery form holds a field per shipment; more than this at once is unwieldy on a phone.
DELIVER_MAX_SHIPMENTS = 20
ACTION_FORM_PREFIX = "delivery"


class DeviceRequestInline(HubScopedInlineMixin, admin.TabularInline):
    model = DeviceRequest
    staff_can_add = True
    staff_can_change = True
    extra = 0
    fields = ("category", "quantity", "status", "purpose", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Project)
class ProjectAdmin(HubScopedAdmin):
    staff_can_add = True
    staff_can_change = True
    list_display = ("name", "organisation", "kind", "country", "hub", "expected_beneficiaries", "public")
    list_filter = ("kind", "public", ("hub", UserHubListFilter))
    list_select_related = ("hub",)
    search_fields = ("name", "organisation")
    show_full_result_count = False
    raw_id_fields = ("coordinators",)
    readonly_fields = ("created_at",)
    inlines = (DeviceRequestInline,)

    def get_readonly_fields(self, request, obj=None):
        if request_is_superuser(request):
            return self.readonly_fields
        # Coordinators are user accounts, which only the platform admin manages.
        return (*self.readonly_fields, "coordinators")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "hub" and formfield is not None:
            # Projects only at hubs whose kind sends devices to projects (an ITAD social enterprise does not).
            formfield.queryset = formfield.queryset.filter(kind__sends_to_projects=True)
        return formfield


@admin.register(DeviceRequest)
class DeviceRequestAdmin(HubScopedAdmin):
    hub_field = "project__hub"
    staff_can_change = True
    list_display = ("id", "project", "category", "quantity", "status", "created_at")
    list_filter = ("status", "category")
    list_select_related = ("project",)
    search_fields = ("project__name", "project__organisation")
    show_full_result_count = False
    raw_id_fields = ("project",)
    readonly_fields = ("created_at",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = restrict_to_user_hubs(Project.objects.all(), user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DeliveryForm(forms.Form):
    """People reached, one field per selected shipment, as the projects confirmed them."""

    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, shipments, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipments = list(shipments)
        for shipment in self.shipments:
            self.fields[f"beneficiaries_{shipment.pk}"] = forms.IntegerField(
                label=_("People reached by shipment %(id)d (%(project)s)")
                % {"id": shipment.pk, "project": shipment.project.name},
                min_value=0,
                max_value=BENEFICIARIES_MAX,
            )

    def beneficiaries_for(self, shipment: Shipment) -> int:
        return self.cleaned_data[f"beneficiaries_{shipment.pk}"]


@admin.register(Shipment)
class ShipmentAdmin(HubScopedAdmin):
    list_display = (
        "id",
        "project",
        "hub",
        "status",
        "device_count",
        "created_at",
        "shipped_at",
        "delivered_at",
        "beneficiaries_confirmed",
    )
    list_filter = ("status", ("hub", UserHubListFilter))
    list_select_related = ("project", "hub")
    search_fields = ("project__name", "project__organisation")
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    fields = (
        "project",
        "hub",
        "status",
        "created_at",
        "shipped_at",
        "delivered_at",
        "beneficiaries_confirmed",
        "device_overview",
    )
    readonly_fields = fields
    # Status, dates and devices change only through projects.services (the actions below).
    read_only = True
    actions = ("ship_shipments", "deliver_shipments")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(device_total=Count("devices"))

    def has_lifecycle_permission(self, request):
        return request_is_hub_staff(request)

    @admin.display(description=_("devices"), ordering="device_total")
    def device_count(self, obj: Shipment) -> int:
        return obj.device_total

    @admin.display(description=_("devices"))
    def device_overview(self, obj: Shipment):
        devices = obj.devices.select_related("hub").order_by("id")[:DEVICES_SHOWN]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            (
                (reverse("admin:refurbishing_device_change", args=[d.pk]), d.pk, d, d.get_state_display())
                for d in devices
            ),
        )
        return format_html(
            "<table><tbody>{}</tbody></table><p>{}</p>",
            rows,
            ngettext(
                "Showing %(shown)d of %(total)d device.", "Showing %(shown)d of %(total)d devices.", obj.device_total
            )
            % {"shown": min(DEVICES_SHOWN, obj.device_total), "total": obj.device_total},
        )

    def _report(self, request, *, label: str, done: int, refused: list[tuple[Shipment, str]]) -> None:
        if done:
            self.message_user(
                request,
                ngettext("%(label)s: %(count)d shipment done.", "%(label)s: %(count)d shipments done.", done)
                % {"label": label, "count": done},
                messages.SUCCESS,
            )
        for shipment, reason in refused:
            self.message_user(
                request,
                _("%(label)s refused for %(shipment)s: %(reason)s")
                % {"label": label, "shipment": shipment, "reason": reason},
                messages.ERROR,
            )

    @admin.action(description=_("Ship"), permissions=["lifecycle"])
    def ship_shipments(self, request, queryset):
        done, refused = 0, []
        for shipment in queryset.order_by("pk"):
            try:
                shipment_ship(shipment=shipment, actor=request.user)
            except LifecycleError as error:
                refused.append((shipment, error.message))
            else:
                done += 1
        self._report(request, label=_("Ship"), done=done, refused=refused)

    @admin.action(description=_("Confirm delivery"), permissions=["lifecycle"])
    def deliver_shipments(self, request, queryset):
        shipments = list(queryset.order_by("pk")[: DELIVER_MAX_SHIPMENTS + 1])
        if len(shipments) > DELIVER_MAX_SHIPMENTS:
            self.message_user(
                request,
                _("Confirm at most %(max)d shipments at once.") % {"max": DELIVER_MAX_SHIPMENTS},
                messages.ERROR,
            )
            return None
        data = request.POST if "apply" in request.POST else None
        form = DeliveryForm(data=data, shipments=shipments, prefix=ACTION_FORM_PREFIX)
        if data is None or not form.is_valid():
            return render_action_form(
                self,
                request,
                action_name="deliver_shipments",
                title=_("Confirm delivery"),
                intro=_("Enter how many people each shipment's devices reach, as the project confirmed it."),
                form=form,
                selected_ids=[s.pk for s in shipments],
                selected_objects=shipments,
            )
        done, refused = 0, []
        for shipment in shipments:
            try:
                shipment_deliver(
                    shipment=shipment,
                    actor=request.user,
                    beneficiaries=form.beneficiaries_for(shipment),
                    note=form.cleaned_data["note"],
                )
            except LifecycleError as error:
                refused.append((shipment, error.message))
            else:
                done += 1
        self._report(request, label=_("Confirm delivery"), done=done, refused=refused)
        return None
