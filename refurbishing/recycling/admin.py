"""Admin for e-waste batches and the register of downstream vendors with their certificates (scoped like every hub
admin).

Writes go through ``refurbishing.recycling.services``: adding the hub's devices waiting to be recycled to a
batch and closing it (managers), which checks the vendor's certificates.
"""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from hubs.admin import HubScopedAdmin, HubScopedInlineMixin, ReadOnlyInlineMixin, UserHubListFilter
from hubs.selectors import user_is_hub_manager
from refurbishing.errors import LifecycleError
from refurbishing.hub_work_form import hub_work_form_page
from refurbishing.models import (
    Device,
    RecyclingBatch,
    RecyclingBatchDevice,
    RecyclingPartner,
    VendorCertificate,
    WasteStream,
)
from refurbishing.recycling.services import (
    recycling_batch_add_waiting,
    recycling_batch_close,
    recycling_batch_coverage_refusal,
    recycling_batch_list,
    vendor_certificate_state,
)
from refurbishing.recycling.streams import (
    recycling_batch_coverage,
    streams_described,
    vendor_certificates_described,
)

LISTED = 20


def certificate_status(certificate: VendorCertificate, *, today: date) -> str:
    """In words, so that no colour carries it alone: expired, not valid yet, expires soon, or valid."""
    state = vendor_certificate_state(certificate, today=today)
    if state == "expired":
        return _("Expired on %(day)s") % {"day": date_format(certificate.expires_on, "DATE_FORMAT")}
    if state == "not_yet_valid":
        return _("Not valid until %(day)s") % {"day": date_format(certificate.valid_from, "DATE_FORMAT")}
    left = (certificate.expires_on - today).days
    if state == "expires_soon":
        return ngettext("Valid; expires in %(days)d day", "Valid; expires in %(days)d days", left) % {"days": left}
    return _("Valid")


class VendorCertificateForm(forms.ModelForm):
    # The scope is a list of stream codes in the database (JSON, on SQLite as on PostgreSQL); here, one box each.
    scope = forms.MultipleChoiceField(
        label=gettext_lazy("waste streams covered"),
        choices=WasteStream.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Whole data-bearing devices: the vendor destroys their data."),
    )

    class Meta:
        model = VendorCertificate
        fields = ("scheme", "number", "scope", "valid_from", "expires_on")


class VendorCertificateInline(HubScopedInlineMixin, admin.StackedInline):
    """The vendor's certificates, each with its status in words; superusers keep them (a renewal is a new one)."""

    model = VendorCertificate
    form = VendorCertificateForm
    fields = ("scheme", "number", "scope", "valid_from", "expires_on", "status", "reminded_at")
    readonly_fields = ("status", "reminded_at", "streams_covered")
    extra = 0

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.fields
        # Read only: the streams by name, not the list of codes the database keeps.
        return tuple("streams_covered" if name == "scope" else name for name in self.fields)

    @admin.display(description=gettext_lazy("waste streams covered"))
    def streams_covered(self, obj: VendorCertificate) -> str:
        return streams_described(obj.scope or []) if obj is not None else "—"

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj: VendorCertificate) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return certificate_status(obj, today=timezone.localdate())


@admin.register(RecyclingPartner)
class RecyclingPartnerAdmin(HubScopedAdmin):
    """Downstream vendors are shared by every hub: staff see them and their certificates, superusers keep them."""

    hub_field = None
    list_display = ("name", "country", "certification", "certificates_summary", "contact")
    list_filter = ("certification", "country")
    search_fields = ("name",)
    ordering = ("name",)
    inlines = [VendorCertificateInline]

    def get_queryset(self, request):
        certificates = VendorCertificate.objects.order_by("-expires_on", "id")
        return super().get_queryset(request).prefetch_related(Prefetch("certificates", queryset=certificates))

    @admin.display(description=gettext_lazy("certificates"))
    def certificates_summary(self, obj: RecyclingPartner) -> str:
        today = timezone.localdate()
        certificates = list(obj.certificates.all())
        if not certificates:
            return _("None recorded: its batches cannot be closed.")
        return format_html_join(
            mark_safe("<br>"),
            "{}: {}",
            ((str(c), certificate_status(c, today=today)) for c in certificates),
        )


class RecyclingBatchDeviceInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = RecyclingBatchDevice
    fields = ("device", "device_state", "device_weight", "added_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")

    @admin.display(description=gettext_lazy("state"))
    def device_state(self, obj: RecyclingBatchDevice) -> str:
        return obj.device.get_state_display()

    @admin.display(description=gettext_lazy("weight (kg)"))
    def device_weight(self, obj: RecyclingBatchDevice) -> str:
        return "—" if obj.device.weight_kg is None else str(obj.device.weight_kg)


class RecyclingBatchCloseForm(forms.Form):
    total_weight_kg = forms.DecimalField(
        label=gettext_lazy("weighed total (kg)"),
        max_digits=10,
        decimal_places=2,
        min_value=0.01,
        required=False,
        help_text=gettext_lazy("Shared among the devices; leave empty if you give the weights per category instead."),
    )
    certificate_reference = forms.CharField(label=gettext_lazy("partner's certificate reference"), max_length=80)
    certificate_date = forms.DateField(label=gettext_lazy("partner's certificate date"), help_text="YYYY-MM-DD")


@admin.register(RecyclingBatch)
class RecyclingBatchAdmin(HubScopedAdmin):
    """Open a batch, add the hub's devices waiting to be recycled, record the weights, and (managers) close it."""

    staff_can_add = True
    staff_can_change = True
    list_display = ("reference", "hub", "partner", "status", "device_count", "total_weight_kg", "closed_at")
    list_filter = ("status", ("hub", UserHubListFilter))
    list_select_related = ("hub", "partner")
    search_fields = ("=reference",)
    ordering = ("-created_at",)
    inlines = [RecyclingBatchDeviceInline]
    actions = ["add_waiting_devices"]
    fields = (
        "hub",
        "partner",
        "reference",
        "status",
        "total_weight_kg",
        "weights_by_category",
        "certificate_reference",
        "certificate_date",
        "streams_and_coverage",
        "covering_certificates",
        "closed_by",
        "closed_at",
        "close_link",
    )

    def get_queryset(self, request):
        # The same scoped list the API reads, with each batch's device count.
        return recycling_batch_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["status", "streams_and_coverage", "covering_certificates", "closed_by", "closed_at", "close_link"]
        if obj is not None:
            readonly += ["hub", "partner", "reference"]
            if obj.status == RecyclingBatch.Status.CLOSED:
                readonly += ["total_weight_kg", "weights_by_category"]
        return readonly

    @admin.display(description=gettext_lazy("devices"))
    def device_count(self, obj: RecyclingBatch) -> int:
        return obj.device_count

    @admin.display(description=gettext_lazy("waste streams"))
    def streams_and_coverage(self, obj: RecyclingBatch) -> str:
        """At dispatch, the streams the batch held; while open, those its devices hold now and whether the vendor's
        certificates cover them today."""
        if obj is None or obj.pk is None:
            return "—"
        if obj.status == RecyclingBatch.Status.CLOSED:
            return streams_described(obj.waste_streams) or "—"
        coverage = recycling_batch_coverage(batch=obj, day=timezone.localdate())
        if not coverage.streams:
            return _("No devices yet.")
        return recycling_batch_coverage_refusal(batch=obj, coverage=coverage) or _(
            "%(streams)s: all covered today by %(vendor)s's certificates."
        ) % {"streams": streams_described(coverage.streams), "vendor": obj.partner.name}

    @admin.display(description=gettext_lazy("vendor's certificates at dispatch"))
    def covering_certificates(self, obj: RecyclingBatch) -> str:
        if obj is None or not obj.vendor_certificates:
            return "—"
        lines = vendor_certificates_described(obj.vendor_certificates)
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=gettext_lazy("close"))
    def close_link(self, obj: RecyclingBatch) -> str:
        if obj is None or obj.pk is None or obj.status != RecyclingBatch.Status.OPEN:
            return "—"
        url = reverse("admin:refurbishing_recyclingbatch_close", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Close the batch and recycle its devices"))

    @admin.action(description=gettext_lazy("Add the hub's devices waiting to be recycled"))
    def add_waiting_devices(self, request, queryset):
        for batch in queryset.filter(status=RecyclingBatch.Status.OPEN):
            try:
                added = recycling_batch_add_waiting(batch=batch, actor=request.user)
            except LifecycleError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            self.message_user(
                request,
                ngettext(
                    "%(count)d device added to %(reference)s.",
                    "%(count)d devices added to %(reference)s.",
                    added,
                )
                % {"count": added, "reference": batch.reference},
                messages.SUCCESS,
            )

    def get_urls(self):
        urls = [
            path(
                "<int:object_id>/close/",
                self.admin_site.admin_view(self.close_view),
                name="refurbishing_recyclingbatch_close",
            )
        ]
        return urls + super().get_urls()

    def close_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        batch = self.get_queryset(request).filter(pk=object_id).first()
        if batch is None:
            raise Http404(_("No recycling batch with this id at your hubs."))
        if not user_is_hub_manager(user=request.user, hub_id=batch.hub_id):
            raise PermissionDenied(_("Only a manager of the hub can close a recycling batch."))
        change_url = reverse("admin:refurbishing_recyclingbatch_change", args=[batch.pk])
        if batch.status != RecyclingBatch.Status.OPEN:
            messages.error(request, _("Batch %(reference)s is already closed.") % {"reference": batch.reference})
            return redirect(change_url)
        initial = {
            "total_weight_kg": batch.total_weight_kg,
            "certificate_reference": batch.certificate_reference,
            "certificate_date": batch.certificate_date,
        }
        form = RecyclingBatchCloseForm(data=request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                recycling_batch_close(batch=batch, actor=request.user, **form.cleaned_data)
            except LifecycleError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Batch %(reference)s closed: %(count)d device recycled.",
                        "Batch %(reference)s closed: %(count)d devices recycled.",
                        batch.device_count,
                    )
                    % {"reference": batch.reference, "count": batch.device_count},
                )
                return redirect(change_url)
        devices = list(Device.objects.filter(recycling_item__batch=batch).order_by("id")[:LISTED])
        intro = _(
            "Every device below moves to recycled, each with its share of the weighed total, in one go: "
            "if one cannot be recycled, none is."
        )
        if not form.non_field_errors():
            # What the vendor's certificates say today, before the manager weighs anything.
            intro = f"{intro} {self.streams_and_coverage(batch)}"
        return hub_work_form_page(
            self,
            request,
            title=_("Close recycling batch %(reference)s") % {"reference": batch.reference},
            intro=intro,
            form=form,
            submit_label=_("Close the batch"),
            cancel_url=change_url,
            listed=devices,
            total=batch.device_count,
        )
