"""The yearly reports as JSON, for a donor's own systems: the same sealed figures as the PDF and the spreadsheet.

Read only, and only the caller's organisations' reports: anyone else's number is a 404. Amounts in kilograms and
CO2e are decimal strings, exactly as summed from the report's lines (no rounding on the way).
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from hubs.viewsets import HubScopedViewSetMixin

from ..models import YearlyReport
from .selectors import yearly_report_list_for_user

KG = {"help_text": "Kilograms, a decimal string summed exactly from the report's lines."}


class _Group(serializers.Serializer):
    devices = serializers.IntegerField()
    kg = serializers.CharField(**KG)


class _CountryGroup(_Group):
    country = serializers.CharField(help_text="ISO 3166 code of the project's country; empty if not recorded.")
    people = serializers.IntegerField()


class _KindGroup(_Group):
    project_kind = serializers.CharField(help_text="education, medical, entrepreneurship or social.")
    people = serializers.IntegerField()


class _CategoryGroup(_Group):
    category = serializers.CharField(help_text="The device category (laptop, desktop, monitor...).")
    co2e = serializers.CharField(help_text="kg CO2e avoided by reusing these devices, a decimal string.")


class _VendorGroup(_Group):
    vendor = serializers.CharField(help_text="The downstream vendor (recycler) the devices were handed over to.")


class _StreamGroup(_Group):
    stream = serializers.CharField(help_text="A waste stream code; a device holding several counts in each.")


class YearlyReportFiguresSerializer(serializers.Serializer):
    """Every figure of a report, each a sum over its lines (one per device)."""

    lines = serializers.IntegerField(help_text="Devices behind the figures: one line each.")
    received = serializers.IntegerField(help_text="Devices whose reception at a hub falls in the year.")
    received_kg = serializers.CharField(**KG)
    received_weight_unknown = serializers.IntegerField(help_text="Received devices without a recorded weight.")
    received_still_in_preparation = serializers.IntegerField(
        help_text="Received in the year with no outcome (reused, recycled, missing) in it."
    )
    reused = serializers.IntegerField(help_text="Devices delivered to a beneficiary project in the year.")
    people_reached = serializers.IntegerField(help_text="People the reused devices reach, corrections included.")
    prepared_for_reuse_kg = serializers.CharField(**KG)
    reused_weight_unknown = serializers.IntegerField(help_text="Reused devices without a recorded weight (0 kg).")
    recycled = serializers.IntegerField(help_text="Devices handed over to a downstream recycler in the year.")
    recycled_kg = serializers.CharField(**KG)
    recycled_weight_unknown = serializers.IntegerField()
    disposed = serializers.IntegerField(
        help_text="Devices sent to landfill or incineration: the platform records no such outcome, so always 0."
    )
    disposed_kg = serializers.CharField(**KG)
    missing = serializers.IntegerField(help_text="Devices marked missing in the year.")
    co2e_avoided_kg = serializers.CharField(help_text="kg CO2e avoided, reuse plus recycling (estimate).")
    co2e_avoided_by_reuse_kg = serializers.CharField()
    co2e_avoided_by_recycling_kg = serializers.CharField()
    reused_by_country = _CountryGroup(many=True)
    reused_by_project_kind = _KindGroup(many=True)
    reused_by_category = _CategoryGroup(many=True)
    recycled_by_vendor = _VendorGroup(many=True)
    recycled_by_stream = _StreamGroup(many=True)


class _FactorSerializer(serializers.Serializer):
    applies_to = serializers.CharField(help_text="A device category, or ewaste_kg (per kg recycled).")
    label = serializers.CharField()
    kg_co2e = serializers.CharField()
    source = serializers.CharField()
    source_url = serializers.CharField(allow_blank=True)


class YearlyReportSerializer(serializers.ModelSerializer):
    """A sealed yearly report: who, which year, when issued, whether current, and its figures."""

    donor_id = serializers.IntegerField(read_only=True)
    supersedes = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    superseded_by = serializers.SerializerMethodField(help_text="The number of the report that replaced it, or null.")
    current = serializers.SerializerMethodField(help_text="True until a corrected report supersedes it.")
    figures = YearlyReportFiguresSerializer(read_only=True)
    factors = _FactorSerializer(many=True, read_only=True)

    class Meta:
        model = YearlyReport
        fields = [
            "number",
            "donor_id",
            "donor_name",
            "year",
            "time_zone",
            "issued_at",
            "supersedes",
            "superseded_by",
            "current",
            "reason",
            "figures",
            "factors",
        ]
        read_only_fields = fields

    def get_superseded_by(self, report: YearlyReport) -> str | None:
        successor = getattr(report, "superseded_by", None)
        return successor.number if successor is not None else None

    def get_current(self, report: YearlyReport) -> bool:
        return getattr(report, "superseded_by", None) is None


@extend_schema_view(
    list=extend_schema(tags=["yearly-reports"], summary="Your organisations' yearly reports, newest year first"),
    retrieve=extend_schema(tags=["yearly-reports"], summary="One yearly report with its figures"),
)
class YearlyReportViewSet(
    HubScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's organisations' yearly reports only; anyone else's is a 404."""

    # A report belongs to a donor, not to a hub: ``yearly_report_list_for_user`` scopes it.
    hub_field = None
    serializer_class = YearlyReportSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9-]+"

    def get_queryset(self) -> QuerySet:
        return yearly_report_list_for_user(user=self.request.user)
