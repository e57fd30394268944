"""API: transfers between the caller's hubs, their summary and check-in at the receiving hub."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from common.serializers import ModelSerializer
from refurbishing.api import OBJECT_ID, lifecycle_error_response, request_mapping
from refurbishing.errors import LifecycleError
from refurbishing.models import Transfer
from refurbishing.transfers.services import (
    transfer_check_in_close,
    transfer_check_in_scan,
    transfer_list,
    transfer_summary,
)


class TransferSerializer(ModelSerializer):
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
        serializer = TransferCheckInRequestSerializer(data=request_mapping(request) or {})
        serializer.is_valid(raise_exception=True)
        try:
            result = transfer_check_in_scan(
                transfer=transfer, actor=request.user, scan=serializer.validated_data["scan"]
            )
        except LifecycleError as error:
            return lifecycle_error_response(error)
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
            return lifecycle_error_response(error)
        return Response(TransferSummarySerializer(summary).data)
