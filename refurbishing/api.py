"""API: devices at the caller's hubs, their chain of custody, and lifecycle moves."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.viewsets import HubScopedViewSetMixin

from .actions import device_perform_action
from .errors import LifecycleError
from .filters import DeviceFilter
from .lifecycle import ACTIONS
from .models import Device
from .selectors import device_list
from .serializers import (
    DeviceDetailSerializer,
    DeviceSerializer,
    DeviceTransitionRequestSerializer,
)

# How a refused move is answered. "forbidden" can only mean the target hub here: the device itself was
# found inside the caller's scope, so the caller may see it but not take it where they asked (403).
STATUS_BY_ERROR_CODE = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "conflict": status.HTTP_409_CONFLICT,
    "forbidden": status.HTTP_403_FORBIDDEN,
}
# Keys of the transition body that steer the endpoint rather than describe the move.
CONTROL_KEYS = ("action", "version")
# The id in the path is a number (the router only matches digits), not the free string the regex suggests.
DEVICE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The device's id.")


def _refusal(message: str, *, code: int, errors: Mapping[str, Any] | None = None) -> Response:
    return Response({"detail": message, "errors": dict(errors or {})}, status=code)


@extend_schema_view(
    list=extend_schema(tags=["devices"], summary="Devices at your hubs, newest first"),
    retrieve=extend_schema(tags=["devices"], summary="One device with its chain of custody", parameters=[DEVICE_ID]),
)
class DeviceViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Devices at the caller's hubs (every hub for a superuser). Writes go through ``transitions``."""

    hub_field = "hub"

    filterset_class = DeviceFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Device]:
        return device_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return DeviceSerializer
        return DeviceDetailSerializer

    @extend_schema(
        tags=["devices"],
        summary="Move a device along its lifecycle",
        description=(
            "Apply one lifecycle action (receive, sanitise, inspect, configure, allocate, ship, deliver, recycle, "
            "mark_missing) with the fields it carries. Send the `version` you last saw to be told (409) when "
            "someone else moved the device first."
        ),
        parameters=[DEVICE_ID],
        request=DeviceTransitionRequestSerializer,
        examples=[
            OpenApiExample("Receive", value={"action": "receive"}, request_only=True),
            OpenApiExample(
                "Sanitise",
                value={
                    "action": "sanitise",
                    "method": "purge",
                    "technique": "NVMe Format with crypto erase",
                    "tool": "nwipe",
                    "tool_version": "0.34",
                    "verification": "full",
                    "verified": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Inspect, passed", value={"action": "inspect", "passed": True, "grade": "A"}, request_only=True
            ),
            OpenApiExample(
                "Configure, if still at version 4", value={"action": "configure", "version": 4}, request_only=True
            ),
        ],
        # Every error has the API's one error body (closegap.openapi adds it, and the 401, 415 and 404).
        responses={
            200: DeviceDetailSerializer,
            400: OpenApiResponse(description="Unknown action, or the move was refused."),
            403: OpenApiResponse(description="The target hub is not one of yours."),
            409: OpenApiResponse(description="Someone else moved the device first."),
        },
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        # Scope first: a device at someone else's hub does not exist as far as this caller knows (404), and one
        # they may see but not move is a 403 (the base viewset's get_object).
        device = self.get_object()
        body = request.data
        if not isinstance(body, Mapping):
            return _refusal("Send a JSON object with an action.", code=status.HTTP_400_BAD_REQUEST)
        action_name = body.get("action")
        if not isinstance(action_name, str) or action_name not in ACTIONS:
            message = f"'{action_name or ''}' is not a device action. Choose one of: {', '.join(ACTIONS)}."
            return _refusal(message, code=status.HTTP_400_BAD_REQUEST, errors={"action": [message]})

        seen_version = body.get("version")
        if seen_version not in (None, ""):
            try:
                seen_version = int(seen_version)
            except (TypeError, ValueError):
                message = "The version must be a whole number."
                return _refusal(message, code=status.HTTP_400_BAD_REQUEST, errors={"version": [message]})
            # A cheap early answer for a stale client; the service repeats the check under the row lock,
            # against the version read above, which is what catches a move that lands in between.
            if seen_version != device.version:
                message = (
                    f"{device} was changed by someone else since you loaded it (it is now "
                    f"{device.get_state_display()}, version {device.version}). Reload it and try again."
                )
                return _refusal(message, code=status.HTTP_409_CONFLICT, errors={"version": [message]})

        fields = {key: value for key, value in body.items() if key not in CONTROL_KEYS}
        with transaction.atomic():
            try:
                device = device_perform_action(device=device, action=action_name, actor=request.user, fields=fields)
            except LifecycleError as error:
                code = STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST)
                return _refusal(error.message, code=code, errors=error.field_errors)
            # Still where the caller may act? If not, the move is rolled back and answered 403.
            self.check_still_in_scope(device)

        # Read it back through the selector so the hub and donation shown are the committed ones.
        fresh = device_list(user=request.user).get(pk=device.pk)
        return Response(DeviceDetailSerializer(fresh, context=self.get_serializer_context()).data)
