"""API: wipe verification samples at the caller's hubs, re-verifying a picked medium, and recording the new wipe
of a device a failed sample sent back."""

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
from refurbishing.hardware.sampling import device_rewipe_record, wipe_sample_item_verify
from refurbishing.hardware.selectors import wipe_sample_list
from refurbishing.models import Device, SanitisationRecord, WipeSample, WipeSampleItem
from refurbishing.selectors import device_list


class WipeSampleItemSerializer(ModelSerializer):
    wiped_by = serializers.CharField(source="wiped_by.get_username", read_only=True)
    verified_by = serializers.CharField(source="verified_by.get_username", read_only=True, allow_null=True)

    class Meta:
        model = WipeSampleItem
        fields = [
            "id",
            "key",
            "device",
            "drive",
            "media_serial",
            "wiped_by",
            "wiped_at",
            "result",
            "verified_by",
            "verified_at",
            "notes",
        ]
        read_only_fields = fields


class WipeSampleSerializer(ModelSerializer):
    hub = serializers.CharField(source="hub.code", read_only=True)
    donation = serializers.CharField(source="donation.reference", read_only=True)
    population = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text='The lot\'s wiped media when the sample was drawn, sorted ("drive:<id>", "device:<id>").',
    )
    items = WipeSampleItemSerializer(many=True, read_only=True)

    class Meta:
        model = WipeSample
        fields = [
            "id",
            "donation",
            "hub",
            "round",
            "seed",
            "population",
            "status",
            "picked_at",
            "decided_at",
            "requeued_devices",
            "devices_already_gone",
            "items",
        ]
        read_only_fields = fields


class WipeSampleVerifySerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The picked medium's id (``items[].id``).")
    passed = serializers.BooleanField(help_text="Whether the re-verification found the medium wiped.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DeviceRewipeSerializer(serializers.Serializer):
    device = serializers.IntegerField(help_text="A device of the lot with no known drive, sent back to be wiped.")
    method = serializers.ChoiceField(choices=SanitisationRecord.Method.choices)
    technique = serializers.CharField(max_length=120)
    tool = serializers.CharField(max_length=120)
    tool_version = serializers.CharField(max_length=40, required=False, allow_blank=True)
    verification = serializers.ChoiceField(choices=SanitisationRecord.Verification.choices)


@extend_schema_view(
    list=extend_schema(tags=["wipe sampling"], summary="Wipe verification samples at your hubs"),
    retrieve=extend_schema(tags=["wipe sampling"], summary="One wipe verification sample", parameters=[OBJECT_ID]),
)
class WipeSampleViewSet(viewsets.ReadOnlyModelViewSet):
    """The lot is a donation: once its storage devices are all wiped, at least 5% of its wiped media (at least
    one) are drawn from the stored seed for re-verification by someone other than the wiper."""

    serializer_class = WipeSampleSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[WipeSample]:
        return wipe_sample_list(user=self.request.user)

    def _fresh(self, pk: int) -> Response:
        return Response(WipeSampleSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        tags=["wipe sampling"],
        summary="Record the re-verification of one picked medium",
        description=(
            "By anyone at the sample's hub except the person who wiped the medium (refused, 400, nothing "
            "written). A failed medium fails the sample and sends every device of the donation back to be wiped."
        ),
        parameters=[OBJECT_ID],
        request=WipeSampleVerifySerializer,
        responses={
            200: WipeSampleSerializer,
            400: OpenApiResponse(description="You wiped this medium, or the body is not valid."),
            409: OpenApiResponse(description="The sample is decided, or the medium was already re-verified."),
        },
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        sample = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = WipeSampleVerifySerializer(data=request_mapping(request) or {})
        serializer.is_valid(raise_exception=True)
        item = get_object_or_404(WipeSampleItem.objects.filter(sample=sample), pk=serializer.validated_data["item"])
        try:
            wipe_sample_item_verify(
                item=item,
                actor=request.user,
                passed=serializer.validated_data["passed"],
                notes=serializer.validated_data.get("notes", ""),
            )
        except LifecycleError as error:
            return lifecycle_error_response(error)
        return self._fresh(sample.pk)

    @extend_schema(
        tags=["wipe sampling"],
        summary="Record the new wipe of a device sent back by this failed sample",
        description="For a device wiped as a whole (no known drive); a device's drives are wiped per drive.",
        parameters=[OBJECT_ID],
        request=DeviceRewipeSerializer,
        responses={200: WipeSampleSerializer, 400: OpenApiResponse(description="Not waiting for a new wipe.")},
    )
    @action(detail=True, methods=["post"])
    def rewipe(self, request: Request, pk: str | None = None) -> Response:
        sample = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = DeviceRewipeSerializer(data=request_mapping(request) or {})
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        device = get_object_or_404(
            device_list(user=request.user).filter(donation_id=sample.donation_id), pk=fields.pop("device")
        )
        try:
            device_rewipe_record(device=Device.objects.get(pk=device.pk), actor=request.user, **fields)
        except LifecycleError as error:
            return lifecycle_error_response(error)
        return self._fresh(sample.pk)
