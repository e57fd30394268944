"""API: check a donation in by scanning what arrived, then close the check-in."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refurbishing.errors import LifecycleError

from .models import Donation
from .serializers import CheckInScanRequestSerializer, CheckInScanResponseSerializer, CheckInSummarySerializer
from .services import donation_check_in_close, donation_check_in_scan, donation_for_check_in

REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The donation's reference, e.g. DON-2026-000042."
)
STATUS_BY_ERROR_CODE = {"conflict": status.HTTP_409_CONFLICT, "forbidden": status.HTTP_404_NOT_FOUND}


def _refusal(error: LifecycleError) -> Response:
    body = {"detail": error.message, "errors": {k: [str(m) for m in v] for k, v in error.field_errors.items()}}
    return Response(body, status=STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST))


def _not_found() -> Response:
    # Another hub's donation does not exist as far as this caller knows.
    return Response({"detail": "No donation with this reference at your hubs.", "errors": {}}, status=404)


class DonationCheckInScanView(APIView):
    @extend_schema(
        tags=["donations"],
        summary="Check in one scanned device of a donation",
        description=(
            "Scan a serial number, asset tag or label code. A pledged device of the donation is received; one "
            "scanned before is reported as already received and nothing changes; a code the donation does not "
            "know is added to it and received when `category` and `manufacturer` are given (400 naming them "
            "otherwise)."
        ),
        parameters=[REFERENCE],
        request=CheckInScanRequestSerializer,
        examples=[
            OpenApiExample("A pledged device", value={"scan": "5CG8123XYZ"}, request_only=True),
            OpenApiExample(
                "A device that was not pledged",
                value={"scan": "PF3ABCD1", "category": "laptop", "manufacturer": "Lenovo", "model": "T480"},
                request_only=True,
            ),
        ],
        responses={
            200: CheckInScanResponseSerializer,
            400: OpenApiResponse(description="No code, or a device that was not pledged without its description."),
            409: OpenApiResponse(description="Someone else moved the device at the same moment."),
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        try:
            donation = donation_for_check_in(user=request.user, reference=reference)
        except Donation.DoesNotExist:
            return _not_found()
        body = CheckInScanRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = donation_check_in_scan(donation=donation, actor=request.user, **body.validated_data)
        except LifecycleError as error:
            return _refusal(error)
        answer = {"outcome": result.outcome, "message": result.message, "device": result.device}
        return Response(CheckInScanResponseSerializer(answer).data)


class DonationCheckInCloseView(APIView):
    @extend_schema(
        tags=["donations"],
        summary="Close a donation's check-in",
        description="Every pledged device not scanned is marked missing (the donor sees it in the portal).",
        parameters=[REFERENCE],
        request=None,
        responses={200: CheckInSummarySerializer},
    )
    def post(self, request: Request, reference: str) -> Response:
        try:
            donation = donation_for_check_in(user=request.user, reference=reference)
        except Donation.DoesNotExist:
            return _not_found()
        try:
            summary = donation_check_in_close(donation=donation, actor=request.user)
        except LifecycleError as error:
            return _refusal(error)
        return Response(CheckInSummarySerializer({"reference": donation.reference, **asdict(summary)}).data)
