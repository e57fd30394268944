"""API: work orders, for the hub that gives them (opened and closed by its managers) and the partner that does them."""

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from common.serializers import ModelSerializer
from hubs.models import PARTNER_STEPS, Hub, Partner
from hubs.viewsets import HubScopedViewSetMixin
from refurbishing.api import OBJECT_ID, lifecycle_error_response
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, WorkOrder
from refurbishing.work_orders.selectors import work_order_done_assigned, work_order_list
from refurbishing.work_orders.services import work_order_close, work_order_create


class WorkOrderSerializer(ModelSerializer):
    hub = serializers.CharField(source="hub.code", read_only=True)
    partner = serializers.CharField(source="partner.name", read_only=True)
    reference = serializers.CharField(read_only=True)
    device_ids = serializers.SerializerMethodField(help_text="The devices assigned.")
    devices_done = serializers.SerializerMethodField(
        help_text="Assigned devices on which no step of the order is left."
    )
    devices_assigned = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "reference",
            "hub",
            "partner",
            "steps",
            "due_on",
            "status",
            "created_at",
            "closed_at",
            "device_ids",
            "devices_assigned",
            "devices_done",
        ]
        read_only_fields = fields

    def get_device_ids(self, obj: WorkOrder) -> list[int]:
        return sorted(device.pk for device in obj.devices.all())

    def get_devices_done(self, obj: WorkOrder) -> int:
        return work_order_done_assigned(obj)[0]

    def get_devices_assigned(self, obj: WorkOrder) -> int:
        return work_order_done_assigned(obj)[1]


class WorkOrderCreateSerializer(serializers.Serializer):
    hub = serializers.SlugRelatedField(slug_field="code", queryset=Hub.objects.all(), help_text="The hub's code.")
    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.filter(active=True))
    steps = serializers.ListField(child=serializers.ChoiceField(choices=PARTNER_STEPS), allow_empty=False)
    due_on = serializers.DateField()
    device_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=5000)
    note = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(tags=["work orders"], summary="Work orders of your hubs, or of your partner organisation"),
    retrieve=extend_schema(tags=["work orders"], summary="One work order with its progress", parameters=[OBJECT_ID]),
)
class WorkOrderViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Hub staff see their hubs' orders and a partner's users their own; a hub's managers open and close them."""

    hub_field = "hub"
    write_action = "manage"
    serializer_class = WorkOrderSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[WorkOrder]:
        return work_order_list(user=self.request.user).prefetch_related("devices")

    @extend_schema(
        tags=["work orders"],
        summary="Give devices and steps to a partner",
        description=(
            "A manager of the hub assigns devices at the hub to a refurbishment partner for the listed steps "
            "(sanitise, inspect, configure) until `due_on`. Refused, with nothing written, if a device is elsewhere, "
            "already in another open order, or has none of the steps left."
        ),
        request=WorkOrderCreateSerializer,
        responses={
            201: WorkOrderSerializer,
            400: OpenApiResponse(description="The order's terms were refused."),
            403: OpenApiResponse(description="You do not manage that hub."),
        },
    )
    def create(self, request: Request) -> Response:
        body = WorkOrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        terms = body.validated_data
        devices = list(Device.objects.restrict(request.user, "manage").filter(pk__in=terms["device_ids"]))
        missing = sorted(set(terms["device_ids"]) - {device.pk for device in devices})
        if missing:
            message = "Not devices of a hub you manage: " + ", ".join(map(str, missing)) + "."
            return Response({"detail": message, "errors": {"device_ids": [message]}}, status=400)
        try:
            with transaction.atomic():
                order = work_order_create(
                    actor=request.user,
                    hub=terms["hub"],
                    partner=terms["partner"],
                    steps=terms["steps"],
                    due_on=terms["due_on"],
                    devices=devices,
                    note=terms["note"],
                )
        except LifecycleError as error:
            return lifecycle_error_response(error)
        fresh = self.get_queryset().get(pk=order.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["work orders"],
        summary="Close a work order",
        description="The partner's users no longer see or move its devices. Closing a closed order changes nothing.",
        parameters=[OBJECT_ID],
        request=None,
        responses={200: WorkOrderSerializer, 403: OpenApiResponse(description="You do not manage its hub.")},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()  # 404 outside the caller's view, 403 for anyone but its hub's managers
        try:
            work_order_close(actor=request.user, work_order=order)
        except LifecycleError as error:
            return lifecycle_error_response(error)
        fresh = self.get_queryset().get(pk=order.pk)
        return Response(self.get_serializer(fresh).data)
