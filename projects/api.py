"""API: projects (applications), device requests and their allocation, shipments and deliveries.

Scoped as the pages are: a coordinator sees their organisation's projects, hub staff their hubs'; anything else
is a 404. Every write goes through ``projects.services``; a refusal answers with the one error body, 409 when
someone else acted first.
"""

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from common.serializers import ModelSerializer
from hubs.models import Hub
from hubs.selectors import user_can_act_in_hub
from hubs.viewsets import HubScopedViewSetMixin
from refurbishing.errors import LifecycleError
from refurbishing.models import Device

from .models import DeliveryConfirmation, DeliveryLine, DeviceRequest, Project, Shipment
from .packing_list import packing_list_pdf
from .selectors import (
    delivery_list_visible,
    device_list_fitting,
    device_request_list_visible,
    project_list_visible,
    shipment_list_visible,
)
from .services import (
    REQUEST_FIELDS,
    ProjectError,
    delivery_confirm,
    delivery_correct,
    project_apply,
    project_review,
    request_allocate,
    request_allocate_suggested,
    shipment_add_devices,
    shipment_create,
    shipment_ship,
)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for the packing list as application/pdf; an error body still goes out as JSON text."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


STATUS_BY_CODE = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "conflict": status.HTTP_409_CONFLICT,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
}
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
REFUSALS = {
    400: OpenApiResponse(description="The request was refused: see detail and errors."),
    403: OpenApiResponse(description="Only a manager of the serving hub (or a coordinator) may do this."),
    409: OpenApiResponse(description="Someone else acted first (already reviewed, allocated, shipped...)."),
}


def _refused(error: ProjectError | LifecycleError) -> Response:
    body = {"detail": error.message, "errors": {k: [str(m) for m in v] for k, v in error.field_errors.items()}}
    return Response(body, status=STATUS_BY_CODE.get(error.code, status.HTTP_400_BAD_REQUEST))


def _invalid(serializer: serializers.Serializer) -> Response:
    errors = {
        name: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])] for name, msgs in serializer.errors.items()
    }
    return Response({"detail": "Invalid input.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


# --- serializers -----------------------------------------------------------------------------------------------


class DeviceRequestSerializer(ModelSerializer):
    allocated = serializers.SerializerMethodField(help_text="Devices allocated to the request so far.")

    class Meta:
        model = DeviceRequest
        fields = ["id", "project", *REQUEST_FIELDS, "status", "allocated", "created_at"]
        read_only_fields = ["id", "project", "status", "allocated", "created_at"]

    def get_allocated(self, obj: DeviceRequest) -> int:
        return getattr(obj, "allocated", None) if hasattr(obj, "allocated") else obj.allocations.count()


class RequestInputSerializer(ModelSerializer):
    class Meta:
        model = DeviceRequest
        fields = list(REQUEST_FIELDS)


class ProjectSerializer(ModelSerializer):
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "organisation",
            "name",
            "kind",
            "country",
            "place",
            "hub",
            "expected_beneficiaries",
            "status",
            "review_reason",
            "created_at",
        ]
        read_only_fields = fields


class ApplicationSerializer(serializers.Serializer):
    organisation = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Project.Kind.choices)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2 code.")
    place = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    hub = serializers.SlugRelatedField(slug_field="code", queryset=Hub.objects.filter(active=True))
    expected_beneficiaries = serializers.IntegerField(min_value=1, max_value=10_000_000)
    requests = RequestInputSerializer(many=True)


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[Project.Status.APPROVED, Project.Status.CHANGES_REQUESTED, Project.Status.DECLINED]
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FittingDeviceSerializer(ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "category", "manufacturer", "model", "serial_number", "cpu", "ram_gb", "storage_gb", "grade"]
        read_only_fields = fields


class AllocateSerializer(serializers.Serializer):
    devices = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=500
    )
    override = serializers.BooleanField(
        default=False, help_text="A hub manager allows more than was requested, on purpose."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AllocationResultSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    devices = serializers.ListField(child=serializers.IntegerField())


class ShipmentDeviceSerializer(ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "category", "manufacturer", "model", "serial_number", "state"]
        read_only_fields = fields


class ShipmentSerializer(ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(read_only=True)
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    devices = ShipmentDeviceSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "project",
            "hub",
            "status",
            "carrier",
            "tracking_reference",
            "created_at",
            "shipped_at",
            "delivered_at",
            "beneficiaries_confirmed",
            "devices",
        ]
        read_only_fields = fields


class ShipmentCreateSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    devices = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=2000,
        help_text="Allocated devices to put in; all the project's unshipped allocations when left out.",
    )
    carrier = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    tracking_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)


class ShipmentDevicesSerializer(serializers.Serializer):
    devices = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=2000
    )


class DeliveryLineSerializer(ModelSerializer):
    class Meta:
        model = DeliveryLine
        fields = ["device", "outcome", "beneficiaries"]
        read_only_fields = fields


class DeliverySerializer(ModelSerializer):
    lines = DeliveryLineSerializer(many=True, read_only=True)
    people_now = serializers.SerializerMethodField(help_text="People reached now, after any correction.")

    class Meta:
        model = DeliveryConfirmation
        fields = [
            "id",
            "shipment",
            "idempotency_key",
            "delivered_on",
            "people_served",
            "people_now",
            "explanation",
            "note",
            "created_at",
            "lines",
        ]
        read_only_fields = fields

    def get_people_now(self, obj: DeliveryConfirmation) -> int:
        corrections = list(obj.corrections.all())
        return corrections[-1].people_after if corrections else obj.people_served


class DeliveryCreateSerializer(serializers.Serializer):
    shipment = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    idempotency_key = serializers.CharField(
        max_length=64, help_text="Any unique string per confirmation; sending it again changes nothing."
    )
    delivered_on = serializers.DateField()
    people_served = serializers.IntegerField(min_value=1, max_value=1_000_000)
    arrived = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=2000
    )
    missing = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False, default=list, max_length=2000
    )
    damaged = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False, default=list, max_length=2000
    )
    explanation = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class CorrectionSerializer(serializers.Serializer):
    people_served = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=2000)


# --- views -------------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=["projects"], summary="Projects of your organisation or your hubs"),
    retrieve=extend_schema(tags=["projects"], summary="One project", parameters=[ID]),
)
class ProjectViewSet(HubScopedViewSetMixin, viewsets.GenericViewSet):
    # Coordinators and hub staff both read here: the ``*_visible`` selector scopes for each.
    hub_field = None
    serializer_class = ProjectSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return project_list_visible(user=self.request.user)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(ProjectSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(
        tags=["projects"],
        summary="Apply for devices: a new project with its requests",
        request=ApplicationSerializer,
        responses={201: ProjectSerializer, 400: REFUSALS[400]},
    )
    def create(self, request: Request) -> Response:
        serializer = ApplicationSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        data = dict(serializer.validated_data)
        try:
            project = project_apply(applicant=request.user, **data)
        except ProjectError as error:
            return _refused(error)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["projects"],
        summary="Review an application (hub managers): approve, ask for changes, decline",
        parameters=[ID],
        request=ReviewSerializer,
        responses={200: ProjectSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        project = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ReviewSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        try:
            project_review(project=project, reviewer=request.user, **serializer.validated_data)
        except ProjectError as error:
            return _refused(error)
        project.refresh_from_db()
        return Response(ProjectSerializer(project).data)


@extend_schema_view(
    list=extend_schema(tags=["projects"], summary="Device requests of your projects"),
    retrieve=extend_schema(tags=["projects"], summary="One device request", parameters=[ID]),
)
class DeviceRequestViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    # Coordinators and hub staff both read here: the ``*_visible`` selector scopes for each.
    hub_field = None
    serializer_class = DeviceRequestSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return device_request_list_visible(user=self.request.user)

    @extend_schema(
        tags=["projects"],
        summary="Configured devices that fit the request, best first",
        parameters=[ID],
        responses={200: FittingDeviceSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def fitting(self, request: Request, pk: str | None = None) -> Response:
        device_request = get_object_or_404(self.get_queryset(), pk=pk)
        if not user_can_act_in_hub(user=request.user, hub_id=device_request.project.hub_id):
            # A coordinator sees the request, not the hub's stock.
            return Response({"detail": "Not found.", "errors": {}}, status=status.HTTP_404_NOT_FOUND)
        devices = device_list_fitting(request=device_request)[:200]
        return Response(FittingDeviceSerializer(devices, many=True).data)

    @extend_schema(
        tags=["projects"],
        summary="Allocate devices to the request (all or none)",
        parameters=[ID],
        request=AllocateSerializer,
        responses={200: AllocationResultSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request: Request, pk: str | None = None) -> Response:
        device_request = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = AllocateSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        try:
            allocations = request_allocate(request=device_request, actor=request.user, **serializer.validated_data)
        except (ProjectError, LifecycleError) as error:
            return _refused(error)
        return Response({"request": device_request.pk, "devices": [a.device_id for a in allocations]})

    @extend_schema(
        tags=["projects"],
        summary="Accept the suggested allocation: fill the request from the best fits",
        parameters=[ID],
        request=None,
        responses={200: AllocationResultSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"], url_path="allocate-suggested")
    def allocate_suggested(self, request: Request, pk: str | None = None) -> Response:
        device_request = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            allocations = request_allocate_suggested(request=device_request, actor=request.user)
        except (ProjectError, LifecycleError) as error:
            return _refused(error)
        return Response({"request": device_request.pk, "devices": [a.device_id for a in allocations]})


@extend_schema_view(
    list=extend_schema(tags=["projects"], summary="Shipments of your projects or hubs"),
    retrieve=extend_schema(tags=["projects"], summary="One shipment with its devices", parameters=[ID]),
)
class ShipmentViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    # Coordinators and hub staff both read here: the ``*_visible`` selector scopes for each.
    hub_field = None
    serializer_class = ShipmentSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return shipment_list_visible(user=self.request.user).prefetch_related("devices")

    @extend_schema(
        tags=["projects"],
        summary="Put a shipment together from allocated devices",
        request=ShipmentCreateSerializer,
        responses={201: ShipmentSerializer, **REFUSALS, 404: OpenApiResponse(description="No such project.")},
    )
    def create(self, request: Request) -> Response:
        serializer = ShipmentCreateSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        data = serializer.validated_data
        project = project_list_visible(user=request.user).filter(pk=data["project"]).first()
        if project is None:
            return Response({"detail": "No such project.", "errors": {}}, status=status.HTTP_404_NOT_FOUND)
        try:
            shipment = shipment_create(
                project=project,
                actor=request.user,
                device_ids=data.get("devices"),
                carrier=data["carrier"],
                tracking_reference=data["tracking_reference"],
            )
        except ProjectError as error:
            return _refused(error)
        return Response(
            ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        tags=["projects"],
        summary="Add allocated devices to a shipment still being prepared (409 once shipped)",
        parameters=[ID],
        request=ShipmentDevicesSerializer,
        responses={200: ShipmentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def devices(self, request: Request, pk: str | None = None) -> Response:
        shipment = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ShipmentDevicesSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        try:
            shipment_add_devices(shipment=shipment, actor=request.user, device_ids=serializer.validated_data["devices"])
        except ProjectError as error:
            return _refused(error)
        return Response(ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)

    @extend_schema(
        tags=["projects"],
        summary="Ship the whole shipment in one act (409 for the loser of a race)",
        parameters=[ID],
        request=None,
        responses={200: ShipmentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str | None = None) -> Response:
        shipment = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            shipment_ship(shipment=shipment, actor=request.user)
        except (ProjectError, LifecycleError) as error:
            return _refused(error)
        return Response(ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)

    @extend_schema(
        tags=["projects"],
        summary="The packing list (PDF, with every device's serial)",
        parameters=[ID],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="packing-list", renderer_classes=[JSONRenderer, PdfRenderer])
    def packing_list(self, request: Request, pk: str | None = None) -> HttpResponse:
        shipment = get_object_or_404(self.get_queryset(), pk=pk)
        response = HttpResponse(packing_list_pdf(shipment=shipment), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="packing-list-{shipment.pk}.pdf"'
        return response


@extend_schema_view(
    list=extend_schema(tags=["projects"], summary="Delivery confirmations of your projects or hubs"),
    retrieve=extend_schema(tags=["projects"], summary="One delivery confirmation", parameters=[ID]),
)
class DeliveryViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    # Coordinators and hub staff both read here: the ``*_visible`` selector scopes for each.
    hub_field = None
    serializer_class = DeliverySerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return delivery_list_visible(user=self.request.user)

    @extend_schema(
        tags=["projects"],
        summary="Confirm a delivery (coordinators): devices arrived, missing or damaged, people served",
        description="Idempotent: the same idempotency_key again answers 200 with the first confirmation.",
        request=DeliveryCreateSerializer,
        responses={
            201: DeliverySerializer,
            200: DeliverySerializer,
            **REFUSALS,
            404: OpenApiResponse(description="No such shipment among your projects."),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = DeliveryCreateSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        data: dict[str, Any] = dict(serializer.validated_data)
        shipment = Shipment.objects.filter(pk=data.pop("shipment"), project__coordinators=request.user).first()
        if shipment is None:
            return Response(
                {"detail": "No such shipment among your projects.", "errors": {}}, status=status.HTTP_404_NOT_FOUND
            )
        try:
            confirmation, created = delivery_confirm(shipment=shipment, confirmed_by=request.user, **data)
        except (ProjectError, LifecycleError) as error:
            return _refused(error)
        body = DeliverySerializer(self.get_queryset().get(pk=confirmation.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        tags=["projects"],
        summary="Correct the people a confirmation reaches (hub managers), with a reason",
        parameters=[ID],
        request=CorrectionSerializer,
        responses={200: DeliverySerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def corrections(self, request: Request, pk: str | None = None) -> Response:
        confirmation = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = CorrectionSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        try:
            delivery_correct(confirmation=confirmation, actor=request.user, **serializer.validated_data)
        except ProjectError as error:
            return _refused(error)
        return Response(DeliverySerializer(self.get_queryset().get(pk=confirmation.pk)).data)
