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
from .bulk.services import bulk_device_ids, bulk_job_for_user, bulk_job_max_devices, bulk_job_progress, bulk_job_start
from .errors import LifecycleError
from .filters import DeviceFilter
from .lifecycle import ACTIONS
from .models import BulkJob, Device
from .selectors import device_list
from .serializers import (
    BulkJobSerializer,
    DeviceBulkRequestSerializer,
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
# Keys of the bulk body that choose the devices rather than describe the move.
BULK_CONTROL_KEYS = ("action", "device_ids", "filter", "version")
# The id in the path is a number (the router only matches digits), not the free string the regex suggests.
DEVICE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The device's id.")
OBJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The object's id.")


def refusal_response(message: str, *, code: int, errors: Mapping[str, Any] | None = None) -> Response:
    """The API's one error body (common.api_errors) for a refusal a view decides itself: 400, 404, 409..."""
    return Response({"detail": message, "errors": dict(errors or {})}, status=code)


def lifecycle_error_response(error: LifecycleError) -> Response:
    """A guard's refusal as the one error body, with the status its code names (409 for a conflict...)."""
    return refusal_response(
        error.message, code=STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST), errors=error.field_errors
    )


def request_mapping(request: Request) -> Mapping | None:
    """The request's body when it is an object (a JSON list or string is not a body these endpoints read)."""
    return request.data if isinstance(request.data, Mapping) else None


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
        # Every error has the API's one error body (common.openapi adds it, and the 401, 415 and 404).
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
            return refusal_response("Send a JSON object with an action.", code=status.HTTP_400_BAD_REQUEST)
        action_name = body.get("action")
        if not isinstance(action_name, str) or action_name not in ACTIONS:
            message = f"'{action_name or ''}' is not a device action. Choose one of: {', '.join(ACTIONS)}."
            return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"action": [message]})

        seen_version = body.get("version")
        if seen_version not in (None, ""):
            try:
                seen_version = int(seen_version)
            except (TypeError, ValueError):
                message = "The version must be a whole number."
                return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"version": [message]})
            # A cheap early answer for a stale client; the service repeats the check under the row lock,
            # against the version read above, which is what catches a move that lands in between.
            if seen_version != device.version:
                message = (
                    f"{device} was changed by someone else since you loaded it (it is now "
                    f"{device.get_state_display()}, version {device.version}). Reload it and try again."
                )
                return refusal_response(message, code=status.HTTP_409_CONFLICT, errors={"version": [message]})

        fields = {key: value for key, value in body.items() if key not in CONTROL_KEYS}
        with transaction.atomic():
            try:
                device = device_perform_action(device=device, action=action_name, actor=request.user, fields=fields)
            except LifecycleError as error:
                code = STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST)
                return refusal_response(error.message, code=code, errors=error.field_errors)
            # Still where the caller may act? If not, the move is rolled back and answered 403.
            self.check_still_in_scope(device)

        # Read it back through the selector so the hub and donation shown are the committed ones.
        fresh = device_list(user=request.user).get(pk=device.pk)
        return Response(DeviceDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        tags=["devices"],
        summary="Move many devices at once, in the background",
        description=(
            "Apply one lifecycle action to many devices at your hubs: list them in `device_ids`, or choose them "
            "with `filter` (the list's filters: state, hub, category, serial_number). The action's fields go at "
            "the top level, as for one device. Answers 202 with the job; follow it at `/devices/bulk/{job_id}/`. "
            "Each device moves alone with its own event; a refused device is listed with the reason and left as it "
            "was; a device already where the action leads is skipped, so repeating a bulk action changes nothing."
        ),
        request=DeviceBulkRequestSerializer,
        examples=[
            OpenApiExample("Receive three devices", value={"action": "receive", "device_ids": [1, 2, 3]}),
            OpenApiExample(
                "Inspect every sanitised laptop at KE-MBA",
                value={
                    "action": "inspect",
                    "filter": {"hub": "KE-MBA", "state": "sanitised", "category": "laptop"},
                    "passed": True,
                    "grade": "B",
                },
            ),
        ],
        responses={
            202: BulkJobSerializer,
            400: OpenApiResponse(description="Unknown action, invalid fields, no devices, or too many."),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, Mapping):
            return refusal_response("Send a JSON object with an action.", code=status.HTTP_400_BAD_REQUEST)
        action_name = body.get("action")
        if not isinstance(action_name, str) or action_name not in ACTIONS:
            message = f"'{action_name or ''}' is not a device action. Choose one of: {', '.join(ACTIONS)}."
            return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"action": [message]})
        scoped = device_list(user=request.user)
        ids, chooser = body.get("device_ids"), body.get("filter")
        if (ids is None) == (chooser is None):
            message = "Give either device_ids or filter."
            return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"device_ids": [message]})
        if ids is not None:
            if not isinstance(ids, list) or not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in ids):
                message = "device_ids must be a list of whole numbers."
                return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"device_ids": [message]})
            if len(ids) > bulk_job_max_devices():
                message = f"Send at most {bulk_job_max_devices()} devices in one bulk action."
                return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"device_ids": [message]})
            # Ids outside the caller's hubs are dropped here, as if they did not exist.
            device_ids = bulk_device_ids(queryset=scoped.filter(pk__in=[pk for pk in ids if 0 < pk < 2**63]))
        else:
            if not isinstance(chooser, Mapping):
                message = 'filter must be an object, e.g. {"hub": "KE-MBA", "state": "received"}.'
                return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"filter": [message]})
            filterset = DeviceFilter(data=chooser, queryset=scoped)
            if not filterset.is_valid():
                errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
                return refusal_response("The filter is not valid.", code=status.HTTP_400_BAD_REQUEST, errors=errors)
            device_ids = bulk_device_ids(queryset=filterset.qs)
        if len(device_ids) > bulk_job_max_devices():
            message = f"The filter chooses more than {bulk_job_max_devices()} devices; narrow it down."
            return refusal_response(message, code=status.HTTP_400_BAD_REQUEST, errors={"filter": [message]})
        fields = {key: value for key, value in body.items() if key not in BULK_CONTROL_KEYS}
        try:
            job = bulk_job_start(actor=request.user, action=action_name, device_ids=device_ids, fields=fields)
        except LifecycleError as error:
            return refusal_response(error.message, code=status.HTTP_400_BAD_REQUEST, errors=error.field_errors)
        return Response(bulk_job_progress(job=job, drive=False), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=["devices"],
        summary="How far a bulk action has got",
        description="Without a background worker (the embedded default), each call also moves the next chunk.",
        parameters=[OpenApiParameter("job_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: BulkJobSerializer},
    )
    @action(detail=False, methods=["get"], url_path=r"bulk/(?P<job_id>\d+)")
    def bulk_job(self, request: Request, job_id: str) -> Response:
        try:
            job = bulk_job_for_user(user=request.user, pk=int(job_id))
        except (BulkJob.DoesNotExist, OverflowError, ValueError):
            return refusal_response("Not found.", code=status.HTTP_404_NOT_FOUND)
        return Response(bulk_job_progress(job=job))
