"""API: recycling batches and transfers between hubs, scoped to the caller's hubs."""

from collections.abc import Mapping

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from .api import STATUS_BY_ERROR_CODE, refusal_response
from .errors import LifecycleError
from .models import RecyclingBatch, Transfer
from .recycling.services import recycling_batch_close, recycling_batch_list
from .transfers.services import transfer_check_in_close, transfer_check_in_scan, transfer_list, transfer_summary

OBJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The object's id.")


class RecyclingBatchSerializer(serializers.ModelSerializer):
    hub = serializers.CharField(source="hub.code", read_only=True)
    partner = serializers.CharField(source="partner.name", read_only=True)
    device_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = RecyclingBatch
        fields = [
            "id",
            "reference",
            "hub",
            "partner",
            "status",
            "total_weight_kg",
            "weights_by_category",
            "certificate_reference",
            "certificate_date",
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


class TransferSerializer(serializers.ModelSerializer):
    from_hub = serializers.CharField(source="from_hub.code", read_only=True)
    to_hub = serializers.CharField(source="to_hub.code", read_only=True)
    device_count = serializers.IntegerField(read_only=True)
    received_count = serializers.IntegerField(read_only=True)
    missing_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "reference",
            "from_hub",
            "to_hub",
            "status",
            "shipped_at",
            "received_at",
            "device_count",
            "received_count",
            "missing_count",
        ]
        read_only_fields = fields


class TransferCheckInRequestSerializer(serializers.Serializer):
    scan = serializers.CharField(max_length=80, help_text="A serial number, donor asset tag or label code.")


class TransferCheckInResponseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["received", "already_received"])
    device_id = serializers.IntegerField()
    message = serializers.CharField()
    expected = serializers.IntegerField()
    received = serializers.IntegerField()
    awaited = serializers.IntegerField()


class TransferSummarySerializer(serializers.Serializer):
    expected = serializers.IntegerField()
    received = serializers.IntegerField()
    missing = serializers.IntegerField()
    awaited = serializers.IntegerField()


def _body(request: Request) -> Mapping | None:
    return request.data if isinstance(request.data, Mapping) else None


def _error(error: LifecycleError) -> Response:
    return refusal_response(
        error.message, code=STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST), errors=error.field_errors
    )


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
            "here or beforehand in the admin."
        ),
        parameters=[OBJECT_ID],
        request=RecyclingBatchCloseSerializer,
        responses={
            200: RecyclingBatchSerializer,
            400: OpenApiResponse(description="The batch is closed or empty, a weight is missing, or a device refused."),
            403: OpenApiResponse(description="You are not a manager of the batch's hub."),
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = RecyclingBatchCloseSerializer(data=_body(request) or {})
        serializer.is_valid(raise_exception=True)
        try:
            recycling_batch_close(batch=batch, actor=request.user, **serializer.validated_data)
        except LifecycleError as error:
            return _error(error)
        fresh = self.get_queryset().get(pk=batch.pk)
        return Response(RecyclingBatchSerializer(fresh).data)


@extend_schema_view(
    list=extend_schema(tags=["transfers"], summary="Transfers leaving or reaching your hubs"),
    retrieve=extend_schema(tags=["transfers"], summary="One transfer between hubs", parameters=[OBJECT_ID]),
)
class TransferViewSet(viewsets.ReadOnlyModelViewSet):
    """Transfers between hubs the caller works at (either end)."""

    serializer_class = TransferSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Transfer]:
        return transfer_list(user=self.request.user)

    def _arriving(self, request: Request, pk: str | None) -> Transfer:
        # The origin hub sees the transfer but cannot check it in: 403 from the service, 404 for anyone else.
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(
        tags=["transfers"],
        summary="Check in one device of the transfer by scanning it",
        parameters=[OBJECT_ID],
        request=TransferCheckInRequestSerializer,
        responses={
            200: TransferCheckInResponseSerializer,
            400: OpenApiResponse(description="Not in this transfer, or the check-in is closed."),
            403: OpenApiResponse(description="The transfer arrives at a hub you do not work at."),
        },
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        transfer = self._arriving(request, pk)
        serializer = TransferCheckInRequestSerializer(data=_body(request) or {})
        serializer.is_valid(raise_exception=True)
        try:
            result = transfer_check_in_scan(
                transfer=transfer, actor=request.user, scan=serializer.validated_data["scan"]
            )
        except LifecycleError as error:
            return _error(error)
        summary = transfer_summary(transfer=transfer)
        return Response(
            {
                "outcome": result.outcome,
                "device_id": result.device.pk,
                "message": result.message,
                "expected": summary.expected,
                "received": summary.received,
                "awaited": summary.awaited,
            }
        )

    @extend_schema(
        tags=["transfers"],
        summary="Close the check-in: devices not scanned are flagged missing",
        parameters=[OBJECT_ID],
        request=None,
        responses={
            200: TransferSummarySerializer,
            400: OpenApiResponse(description="The check-in is already closed."),
            403: OpenApiResponse(description="The transfer arrives at a hub you do not work at."),
        },
    )
    @action(detail=True, methods=["post"], url_path="close")
    def close(self, request: Request, pk: str | None = None) -> Response:
        transfer = self._arriving(request, pk)
        try:
            summary = transfer_check_in_close(transfer=transfer, actor=request.user)
        except LifecycleError as error:
            return _error(error)
        return Response(TransferSummarySerializer(summary).data)
