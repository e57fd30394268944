"""API: upload an eReuse Workbench hardware report (``POST /api/v1/snapshots/``)."""

import re

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.selectors import hub_list_for_user, user_is_hub_staff
from refurbishing.errors import LifecycleError
from refurbishing.hardware.selectors import snapshot_result
from refurbishing.hardware.services import snapshot_create
from refurbishing.hardware.workbench import NotAWorkbenchReport, ReportTooLarge, decode_report

HUB_CODE = re.compile(r"[A-Z]{2}-[A-Z]{3}")
STATUS_BY_ERROR_CODE = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "conflict": status.HTTP_409_CONFLICT,
    "forbidden": status.HTTP_403_FORBIDDEN,
}


class IsHubStaff(BasePermission):
    message = "Only hub staff can upload hardware reports."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and user_is_hub_staff(user=request.user))


class SnapshotDriveSerializer(serializers.Serializer):
    model = serializers.CharField()
    serial_number = serializers.CharField(help_text="Empty when the report has none, or only a placeholder.")
    size_gb = serializers.IntegerField(allow_null=True, help_text="Decimal GB, as on the drive's label.")
    media_type = serializers.ChoiceField(choices=["hdd", "ssd", "nvme", "other"])


class SnapshotDifferenceSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The device field the report disagrees with.")
    device = serializers.JSONField(help_text="What the device has (typed by a person, kept).")
    report = serializers.JSONField(help_text="What the report says.")


class SnapshotResultSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    device = serializers.IntegerField(allow_null=True, help_text="The matched device's id; null while it waits.")
    serial_number = serializers.CharField(help_text="System serial; empty when missing or a placeholder.")
    manufacturer = serializers.CharField()
    model = serializers.CharField()
    device_type = serializers.CharField(help_text="The chassis or device type the report gives (Laptop...).")
    cpu = serializers.CharField()
    cpu_cores = serializers.IntegerField(allow_null=True)
    ram_gb = serializers.IntegerField(allow_null=True)
    drives = SnapshotDriveSerializer(many=True)
    differences = SnapshotDifferenceSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField(), help_text="Parts of the report not readable.")


def _refusal(message: str, *, code: int, errors: dict | None = None) -> Response:
    return Response({"detail": str(message), "errors": dict(errors or {})}, status=code)


class SnapshotCreateView(APIView):
    """Upload one Workbench report; it is kept as evidence and linked to its device at your hubs."""

    permission_classes = (IsAuthenticated, IsHubStaff)
    # The body is read and checked here (size first, then JSON), so any body gets a clear answer, never a 500.
    parser_classes = (JSONParser,)

    @extend_schema(
        tags=["hardware reports"],
        summary="Upload an eReuse Workbench hardware report",
        description=(
            "Send the report's JSON as it is (workbench-script or Workbench 11/12 format). It is stored as "
            "evidence, and matched by system serial to a device at your hubs: empty device fields are filled in, "
            "typed ones are kept and the differences listed. A report whose device is not there yet waits and is "
            "linked when that serial is received. The same `uuid` again changes nothing and answers 200. Reports "
            "are capped in size (413)."
        ),
        parameters=[
            OpenApiParameter(
                "hub",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description="Hub code (e.g. KE-MBA): needed when you work at several hubs and no device matches.",
            )
        ],
        request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Workbench 11/12 report (shortened)",
                value={
                    "type": "Snapshot",
                    "uuid": "7928afeb-e6a4-464a-a842-0c3de0d01677",
                    "software": "Workbench",
                    "device": {"type": "Laptop", "manufacturer": "Hewlett-Packard", "serialNumber": "CNU406CLGR"},
                    "components": [{"type": "SolidStateDrive", "serialNumber": "LDS645R002202", "size": 120034}],
                },
                request_only=True,
            )
        ],
        responses={
            201: SnapshotResultSerializer,
            200: OpenApiResponse(SnapshotResultSerializer, description="This report (uuid) was already stored."),
            400: OpenApiResponse(description="Not a Workbench report (detail says why); nothing stored."),
            403: OpenApiResponse(description="Not hub staff, or a hub you do not work at."),
            409: OpenApiResponse(description="This report was already uploaded at another hub."),
            413: OpenApiResponse(description="The report is over the size cap."),
            429: OpenApiResponse(description="Too many reports: wait the seconds in Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        cap = settings.HARDWARE_REPORT_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > cap:
            return _refusal(
                f"A hardware report may be at most {cap} bytes; this one is {length}.",
                code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if request.content_type.split(";")[0].strip().lower() not in ("application/json", ""):
            return _refusal(
                "Send the report as JSON (Content-Type: application/json).",
                code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        hub = None
        hub_code = request.query_params.get("hub", "").strip().upper()
        if hub_code and not HUB_CODE.fullmatch(hub_code):
            message = "A hub code is a country and a city code, e.g. KE-MBA."
            return _refusal(message, code=status.HTTP_400_BAD_REQUEST, errors={"hub": [message]})
        if hub_code:
            hub = hub_list_for_user(user=request.user).filter(code=hub_code).first()
            if hub is None:
                message = f"You do not work at a hub with the code {hub_code}."
                return _refusal(message, code=status.HTTP_403_FORBIDDEN, errors={"hub": [message]})
        try:
            report = decode_report(request._request.body, max_bytes=cap)
        except ReportTooLarge as error:
            return _refusal(str(error), code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except NotAWorkbenchReport as error:
            return _refusal(str(error), code=status.HTTP_400_BAD_REQUEST, errors={"report": [str(error)]})
        try:
            result = snapshot_create(report=report, actor=request.user, hub=hub)
        except LifecycleError as error:
            code = STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST)
            return _refusal(error.message, code=code, errors=error.field_errors)
        return Response(
            snapshot_result(result.snapshot),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
