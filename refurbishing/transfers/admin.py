"""Admin for transfers between hubs (scoped like every hub admin).

Writes go through ``refurbishing.transfers.services``: sending devices to another hub (managers).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubs.admin import HubScopedAdmin, ReadOnlyInlineMixin
from hubs.models import Hub
from hubs.selectors import hub_ids_managed_by
from refurbishing.errors import LifecycleError
from refurbishing.hub_work_form import hub_work_form_page
from refurbishing.models import Transfer, TransferDevice
from refurbishing.selectors import device_find_by_code
from refurbishing.transfers.services import transfer_list, transfer_send


class TransferDeviceInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = TransferDevice
    fields = ("device", "status", "received_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")


class TransferSendForm(forms.Form):
    from_hub = forms.ModelChoiceField(label=gettext_lazy("from hub"), queryset=Hub.objects.none())
    to_hub = forms.ModelChoiceField(label=gettext_lazy("to hub"), queryset=Hub.objects.all().order_by("code"))
    reference = forms.CharField(label=gettext_lazy("container or waybill reference"), max_length=60)
    codes = forms.CharField(
        label=gettext_lazy("devices"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One label code, serial number or asset tag per line (scan them one after another)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        managed = hub_ids_managed_by(user=user)
        hubs = Hub.objects.all() if managed is None else Hub.objects.filter(pk__in=managed)
        self.fields["from_hub"].queryset = hubs.order_by("code")
        self.user = user

    def clean(self):
        cleaned = super().clean()
        devices, unknown = [], []
        for line in (cleaned.get("codes") or "").splitlines():
            code = line.strip()
            if not code:
                continue
            found = device_find_by_code(user=self.user, code=code)
            if len(found) == 1:
                devices.append(found[0])
            else:
                unknown.append(code)
        if unknown:
            self.add_error(
                "codes",
                _("Not found at your hubs, or not one device: %(codes)s") % {"codes": ", ".join(unknown[:20])},
            )
        cleaned["devices"] = list({d.pk: d for d in devices}.values())
        return cleaned


@admin.register(Transfer)
class TransferAdmin(HubScopedAdmin):
    """Transfers leaving or reaching the user's hubs; managers send devices from the "add" page."""

    staff_can_add = True
    list_display = ("reference", "from_hub", "to_hub", "status", "device_count", "missing_count", "shipped_at")
    list_filter = ("status",)
    list_select_related = ("from_hub", "to_hub")
    search_fields = ("=reference",)
    ordering = ("-shipped_at",)
    inlines = [TransferDeviceInline]
    fields = ("reference", "from_hub", "to_hub", "status", "shipped_at", "shipped_by", "received_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return transfer_list(user=request.user)

    def has_add_permission(self, request):
        managed = hub_ids_managed_by(user=request.user)
        return super().has_add_permission(request) and (managed is None or bool(managed))

    @admin.display(description=gettext_lazy("devices"))
    def device_count(self, obj: Transfer) -> int:
        return obj.device_count

    @admin.display(description=gettext_lazy("missing"))
    def missing_count(self, obj: Transfer) -> int:
        return obj.missing_count

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TransferSendForm(data=request.POST if request.method == "POST" else None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                transfer = transfer_send(
                    from_hub=form.cleaned_data["from_hub"],
                    to_hub=form.cleaned_data["to_hub"],
                    devices=form.cleaned_data["devices"],
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                )
            except LifecycleError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Transfer %(reference)s sent to %(hub)s.")
                    % {"reference": transfer.reference, "hub": transfer.to_hub.code},
                )
                return redirect(reverse("admin:refurbishing_transfer_change", args=[transfer.pk]))
        return hub_work_form_page(
            self,
            request,
            title=_("Send devices to another hub"),
            intro=_(
                "Received or configured devices of a hub you manage travel to another hub, which checks them in "
                "by scanning on arrival."
            ),
            form=form,
            submit_label=_("Send"),
            cancel_url=reverse("admin:refurbishing_transfer_changelist"),
        )
