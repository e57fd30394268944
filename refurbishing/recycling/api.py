"""API: recycling batches at the caller's hubs, and closing one (managers); the register of downstream vendors."""

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from common.serializers import ModelSerializer
from hubs.viewsets import HubScopedViewSetMixin
from refurbishing.api import OBJECT_ID, lifecycle_error_response, request_mapping
from refurbishing.errors import LifecycleError
from refurbishing.models import RecyclingBatch, RecyclingPartner, VendorCertificate, WasteStream
from refurbishing.recycling.services import (
    REMINDER_DAYS_BEFORE_EXPIRY,
    recycling_batch_close,
    recycling_batch_list,
    vendor_certificate_state,
    vendor_list_for_user,
)


class DownstreamVendorSerializer(ModelSerializer):
    class Meta:
        model = RecyclingPartner
        fields = ["id", "name", "country"]
        read_only_fields = fields


class CoveringCertificateSerializer(serializers.Serializer):
    """A vendor certificate as it read when it covered the batch's dispatch."""

    scheme = serializers.ChoiceField(choices=VendorCertificate.Scheme.choices, read_only=True)
    number = serializers.CharField(read_only=True)
    valid_from = serializers.DateField(read_only=True)
    expires_on = serializers.DateField(read_only=True)
    streams = serializers.ListField(
        child=serializers.ChoiceField(choices=WasteStream.choices),
        read_only=True,
        help_text="The batch's waste streams this certificate covered.",
    )


class RecyclingBatchSerializer(ModelSerializer):
    hub = serializers.CharField(source="hub.code", read_only=True)
    partner = serializers.CharField(source="partner.name", read_only=True)
    vendor = DownstreamVendorSerializer(source="partner", read_only=True)
    device_count = serializers.IntegerField(read_only=True)
    waste_streams = serializers.ListField(
        child=serializers.ChoiceField(choices=WasteStream.choices),
        read_only=True,
        help_text="The waste streams the batch held when it was closed (empty while open).",
    )
    vendor_certificates = CoveringCertificateSerializer(
        many=True,
        read_only=True,
        help_text="The vendor's certificates that covered the batch on the day it was closed (empty while open).",
    )

    class Meta:
        model = RecyclingBatch
        fields = [
            "id",
            "reference",
            "hub",
            "partner",
            "vendor",
            "status",
            "total_weight_kg",
            "weights_by_category",
            "certificate_reference",
            "certificate_date",
            "waste_streams",
            "vendor_certificates",
            "device_count",
            "closed_at",
        ]
        read_only_fields = fields


class RecyclingBatchCloseSerializer(serializers.Serializer):
    total_weight_kg = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    weights_by_category = serializers.DictField(
        child=serializers.DecimalField(max_digits=10, decimal_places=2), required=False
    )
    certificate_reference = serializers.CharField(max_length=80, required=False)
    certificate_date = serializers.DateField(required=False)


@extend_schema_view(
    list=extend_schema(tags=["recycling"], summary="Recycling batches at your hubs"),
    retrieve=extend_schema(tags=["recycling"], summary="One recycling batch", parameters=[OBJECT_ID]),
)
class RecyclingBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """E-waste batches at the caller's hubs."""

    serializer_class = RecyclingBatchSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[RecyclingBatch]:
        return recycling_batch_list(user=self.request.user)

    @extend_schema(
        tags=["recycling"],
        summary="Close a batch: recycle every device in it (managers only)",
        description=(
            "Moves every device of the batch to recycled in one transaction, each with its share of the weighed "
            "total on its event. Give the weighed total (or weights per category) and the partner's certificate "
            "here or beforehand in the admin. Refused (400, nothing written) unless today the vendor holds a valid "
            "certificate for every waste stream the batch holds; devices whose data is not wiped go only to a "
            "vendor certified for whole data-bearing devices."
        ),
        parameters=[OBJECT_ID],
        request=RecyclingBatchCloseSerializer,
        responses={
            200: RecyclingBatchSerializer,
            400: OpenApiResponse(
                description=(
                    "The batch is closed or empty, a weight is missing, a device refused, or the vendor's "
                    "certificates do not cover a waste stream of the batch today."
                )
            ),
            403: OpenApiResponse(description="You are not a manager of the batch's hub."),
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = RecyclingBatchCloseSerializer(data=request_mapping(request) or {})
        serializer.is_valid(raise_exception=True)
        try:
            recycling_batch_close(batch=batch, actor=request.user, **serializer.validated_data)
        except LifecycleError as error:
            return lifecycle_error_response(error)
        fresh = self.get_queryset().get(pk=batch.pk)
        return Response(RecyclingBatchSerializer(fresh).data)


class VendorCertificateSerializer(ModelSerializer):
    """One certificate of a vendor: scheme, number, the waste streams its scope covers and when it is valid."""

    waste_streams = serializers.ListField(
        source="scope",
        child=serializers.ChoiceField(choices=WasteStream.choices),
        read_only=True,
        help_text="The streams its scope covers; data_bearing_devices qualifies the vendor to destroy data.",
    )
    state = serializers.SerializerMethodField(
        help_text=(
            f"On today's date: valid, expires_soon (within {REMINDER_DAYS_BEFORE_EXPIRY} days: the managers of the "
            "hubs that dispatch to the vendor are told), expired, or not_yet_valid. A batch is dispatched only to a "
            "vendor whose certificates valid that day cover its streams."
        )
    )

    class Meta:
        model = VendorCertificate
        fields = ["scheme", "number", "waste_streams", "valid_from", "expires_on", "state"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["valid", "expires_soon", "expired", "not_yet_valid"]))
    def get_state(self, certificate: VendorCertificate) -> str:
        return vendor_certificate_state(certificate, today=timezone.localdate())


class VendorSerializer(ModelSerializer):
    certificates = VendorCertificateSerializer(many=True, read_only=True)

    class Meta:
        model = RecyclingPartner
        fields = ["id", "name", "country", "contact", "certificates"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        tags=["recycling"],
        summary="Downstream vendors and their certificates (hub staff)",
        description="The register every hub shares; its keepers are the platform's admins (admin, Downstream vendors).",
    ),
    retrieve=extend_schema(tags=["recycling"], summary="One downstream vendor", parameters=[OBJECT_ID]),
)
class VendorViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Downstream vendors, read only, for hub staff; anyone else finds none (empty list, 404)."""

    # Not a hub's rows: every hub dispatches to the same vendors. ``vendor_list_for_user`` lets hub staff read them.
    hub_field = None

    serializer_class = VendorSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[RecyclingPartner]:
        return vendor_list_for_user(user=self.request.user)
