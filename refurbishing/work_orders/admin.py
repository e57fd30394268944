"""Admin for work orders: a hub's managers give devices and steps to a partner and follow its progress; the
partner's users see their own orders, read-only."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hubs.admin import HubScopedAdmin, UserHubListFilter
from hubs.models import LIFECYCLE_STEPS, PARTNER_STEPS
from hubs.selectors import partner_list
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, WorkOrder
from refurbishing.work_orders.selectors import work_order_done_assigned, work_order_list, work_order_progress
from refurbishing.work_orders.services import work_order_check, work_order_close


class WorkOrderForm(forms.ModelForm):
    """The steps as boxes to tick; the order's terms checked by the same rules as the service's."""

    steps = forms.MultipleChoiceField(
        label=_("steps"),
        choices=[(step, LIFECYCLE_STEPS[step]) for step in PARTNER_STEPS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The lifecycle steps the partner may take on these devices."),
    )

    class Meta:
        model = WorkOrder
        fields = ("hub", "partner", "steps", "due_on", "devices", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "partner" in self.fields:
            self.fields["partner"].queryset = partner_list()

    def clean_steps(self) -> list[str]:
        chosen = set(self.cleaned_data["steps"])
        return [step for step in PARTNER_STEPS if step in chosen]

    def clean(self):
        cleaned = super().clean()
        needed = ("hub", "partner", "steps", "due_on", "devices")
        if self.instance.status == WorkOrder.Status.OPEN and all(cleaned.get(name) is not None for name in needed):
            problems = work_order_check(
                hub=cleaned["hub"],
                partner=cleaned["partner"],
                steps=cleaned["steps"],
                due_on=cleaned["due_on"],
                devices=cleaned["devices"],
                work_order=self.instance,
            )
            for problem in problems:
                self.add_error(None, problem)
        return cleaned


@admin.register(WorkOrder)
class WorkOrderAdmin(HubScopedAdmin):
    """A hub's managers open, extend and close work orders; its staff and the partner's users look."""

    form = WorkOrderForm
    write_action = "manage"
    staff_can_add = True
    staff_can_change = True
    partner_visible = True
    list_display = ("reference_display", "hub", "partner", "steps_display", "due_on", "status", "done_display")
    list_filter = ("status", ("hub", UserHubListFilter), "partner")
    list_select_related = ("hub", "partner")
    raw_id_fields = ("devices",)
    readonly_fields = ("status", "created_by", "created_at", "closed_at", "progress_display")
    actions = ["close_orders"]

    def get_queryset(self, request):
        return work_order_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None and obj.status == WorkOrder.Status.CLOSED:
            readonly += ["hub", "partner", "steps", "due_on", "devices", "note"]
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "devices":
            kwargs["queryset"] = Device.objects.restrict(request.user, "manage")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("work order"), ordering="id")
    def reference_display(self, obj: WorkOrder) -> str:
        return obj.reference

    @admin.display(description=_("steps"))
    def steps_display(self, obj: WorkOrder) -> str:
        return ", ".join(str(LIFECYCLE_STEPS.get(step, step)) for step in obj.steps or [])

    @admin.display(description=_("done / assigned"))
    def done_display(self, obj: WorkOrder) -> str:
        done, assigned = work_order_done_assigned(obj)
        return _("%(done)d of %(assigned)d") % {"done": done, "assigned": assigned}

    @admin.display(description=_("progress"))
    def progress_display(self, obj: WorkOrder) -> str:
        if obj.pk is None:
            return "-"
        progress = work_order_progress(orders=[obj])[obj.pk]
        return _("%(done)d of %(assigned)d devices done (%(moves)d moves by the partner)") % {
            "done": progress.done,
            "assigned": progress.assigned,
            "moves": progress.partner_moves,
        }

    @admin.action(description=_("Close the selected work orders"), permissions=["change"])
    def close_orders(self, request, queryset):
        closed = 0
        for order in queryset.select_related("hub"):
            try:
                work_order_close(actor=request.user, work_order=order)
            except LifecycleError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                closed += 1
        if closed:
            self.message_user(
                request,
                ngettext("%(count)d work order closed.", "%(count)d work orders closed.", closed) % {"count": closed},
                messages.SUCCESS,
            )
