"""The donations API: donors list, read and create their donations; hub staff check a donation in by scanning."""

import json
from dataclasses import asdict

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api_errors import error_body
from hubs.viewsets import HubScopedViewSetMixin
from refurbishing.errors import LifecycleError
from refurbishing.models import Device

from .models import Donation
from .selectors import (
    donation_list_for_api,
    donor_list_for_user,
    e_resource_commitment_list_for_user,
    evidence_archive_list_for_user,
    evidence_hub_list_for_user,
)
from .serializers import (
    CheckInScanRequestSerializer,
    CheckInScanResponseSerializer,
    CheckInSummarySerializer,
    DonationCreateSerializer,
    DonationDetailSerializer,
    DonationSerializer,
    EResourceCommitmentCreateSerializer,
    EResourceCommitmentSerializer,
    EvidenceArchiveCreateSerializer,
    EvidenceArchiveSerializer,
)
from .services import (
    DonationError,
    EResourceError,
    donation_check_in_close,
    donation_check_in_scan,
    donation_for_check_in,
    donation_pledge,
    donor_user_may_pledge,
    e_resource_commitment_create,
    evidence_archive_download_name,
    evidence_archive_open,
    evidence_archive_start,
    hub_pledge_refusal,
)

REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The donation's reference, e.g. DON-2026-000042."
)


@extend_schema_view(
    list=extend_schema(tags=["donations"], summary="Your donations, newest first"),
    retrieve=extend_schema(
        tags=["donations"], summary="One donation with its devices and their states", parameters=[REFERENCE]
    ),
    create=extend_schema(
        tags=["donations"],
        summary="Pledge a donation with its devices",
        description=(
            "Registers the donation and each device as pledged, with its first chain-of-custody event; nothing "
            "is saved if any device is refused. Your account's e-mail address must be verified."
        ),
        request=DonationCreateSerializer,
        examples=[
            OpenApiExample(
                "Two laptops and a monitor",
                request_only=True,
                value={
                    "hub": "BE-BRU",
                    "pickup_address": "Rue de la Loi 16, 1000 Brussels",
                    "pickup_date": "2099-06-01",
                    "notes": "Loading dock at the back, 9:00-16:00.",
                    "devices": [
                        {
                            "category": "laptop",
                            "manufacturer": "Dell",
                            "model": "Latitude 7400",
                            "serial_number": "7HX2K93",
                        },
                        {
                            "category": "laptop",
                            "manufacturer": "HP",
                            "model": "EliteBook 840 G5",
                            "asset_tag": "IT-0042",
                        },
                        {"category": "monitor", "manufacturer": "Dell", "model": "P2419H"},
                    ],
                },
            )
        ],
        responses={
            201: DonationDetailSerializer,
            403: OpenApiResponse(description="Not a donor organisation's user, or e-mail address not verified."),
        },
    ),
)
class DonationViewSet(HubScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Donations of the caller's organisations (hub staff: their hubs' donations). Anyone else's is a 404."""

    # Donors and hub staff both read here: ``donation_list_for_api`` scopes for each (hub staff by restrict).
    hub_field = None

    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    def get_queryset(self) -> QuerySet:
        queryset = donation_list_for_api(user=self.request.user)
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(Prefetch("devices", queryset=Device.objects.order_by("id")))

    def get_serializer_class(self):
        if self.action == "list":
            return DonationSerializer
        if self.action == "create":
            return DonationCreateSerializer
        return DonationDetailSerializer

    def create(self, request: Request, *args, **kwargs) -> Response:
        donors = list(donor_list_for_user(user=request.user))
        if not donors:
            raise PermissionDenied("Only a donor organisation's users can pledge donations.")
        if not donor_user_may_pledge(user=request.user):
            raise PermissionDenied("Confirm your e-mail address first: open the link we sent you, then try again.")
        serializer = DonationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("donor") is not None:
            donor = next((donor for donor in donors if donor.pk == data["donor"]), None)
            if donor is None:
                raise ValidationError({"donor": ["Not one of your organisations."]})
        elif len(donors) > 1:
            raise ValidationError({"donor": ["Your account belongs to several organisations: say which one pledges."]})
        else:
            donor = donors[0]
        refusal = hub_pledge_refusal(data["hub"])
        if refusal:
            raise ValidationError({"hub": [refusal]})
        try:
            donation = donation_pledge(
                donor=donor,
                hub=data["hub"],
                pickup_address=data["pickup_address"],
                pickup_date=data["pickup_date"],
                notes=data["notes"],
                rows=data["devices"],
                actor=request.user,
            )
        except DonationError as exc:
            raise ValidationError({"devices": [str(exc)]}) from exc
        created = self.get_queryset().get(pk=donation.pk)
        return Response(DonationDetailSerializer(created).data, status=status.HTTP_201_CREATED)


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


@extend_schema_view(
    list=extend_schema(tags=["e-resource"], summary="Your organisations' e-Resource commitments, newest first"),
    retrieve=extend_schema(tags=["e-resource"], summary="One commitment with its progress"),
    create=extend_schema(
        tags=["e-resource"],
        summary="Make an e-Resource commitment",
        description=(
            "By devices (the number you send to Africa, times the kilograms a device counts for, 20 by default) or "
            "by kilograms. Kilograms of recycling batches dispatched at African hubs from now on are allocated to "
            "commitments in the order they were made; a fully covered one gets a certificate number."
        ),
        request=EResourceCommitmentCreateSerializer,
        examples=[OpenApiExample("By devices", request_only=True, value={"basis": "devices", "devices": 120})],
        responses={201: EResourceCommitmentSerializer, 403: OpenApiResponse(description="Not a donor's user.")},
    ),
)
class EResourceCommitmentViewSet(HubScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The e-Resource commitments of the caller's organisations only; anyone else's is a 404."""

    # A commitment belongs to a donor, not to a hub: ``e_resource_commitment_list_for_user`` scopes it.
    hub_field = None

    serializer_class = EResourceCommitmentSerializer

    def get_queryset(self) -> QuerySet:
        return e_resource_commitment_list_for_user(user=self.request.user)

    def get_serializer_class(self):
        return EResourceCommitmentCreateSerializer if self.action == "create" else EResourceCommitmentSerializer

    def create(self, request: Request, *args, **kwargs) -> Response:
        donors = list(donor_list_for_user(user=request.user))
        if not donors:
            raise PermissionDenied("Only a donor organisation's users can make e-Resource commitments.")
        serializer = EResourceCommitmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("donor") is not None:
            donor = next((donor for donor in donors if donor.pk == data["donor"]), None)
            if donor is None:
                raise ValidationError({"donor": ["Not one of your organisations."]})
        elif len(donors) > 1:
            raise ValidationError({"donor": ["Your account belongs to several organisations: say which one commits."]})
        else:
            donor = donors[0]
        try:
            made = e_resource_commitment_create(
                donor=donor,
                actor=request.user,
                basis=data["basis"],
                devices=data.get("devices"),
                kilograms=data.get("kilograms"),
            )
        except EResourceError as error:
            raise ValidationError({error.field or "non_field_errors": [str(error)]}) from error
        created = self.get_queryset().get(pk=made.pk)
        return Response(EResourceCommitmentSerializer(created).data, status=status.HTTP_201_CREATED)


class ZipRenderer(BaseRenderer):
    """Lets a client ask for the evidence archive as application/zip; an error body still goes out as JSON text."""

    media_type = "application/zip"
    format = "zip"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


ARCHIVE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The archive's id.")
NOT_A_MANAGER = "No such evidence archive among the hubs you manage."


@extend_schema_view(
    list=extend_schema(
        tags=["evidence"],
        summary="Evidence archives of the hubs you manage, newest first",
        description="Empty for anyone who manages no hub: an archive is for the hub's managers only.",
    ),
    retrieve=extend_schema(
        tags=["evidence"],
        summary="One evidence archive and the progress of its build (poll it until `finished`)",
        parameters=[ARCHIVE_ID],
        responses={200: EvidenceArchiveSerializer, 404: OpenApiResponse(description=NOT_A_MANAGER)},
    ),
    create=extend_schema(
        tags=["evidence"],
        summary="Build an evidence archive for an auditor (a hub and a date range)",
        description=(
            "Queues the build of one zip for a hub you manage: the chain of custody (CSV), every certificate "
            "issued, the wipe verification samples, the downstream vendors' certificates in force and each dispatch "
            "to a vendor with its weights by waste stream, with MANIFEST.sha256. Answers 202 at once; poll the "
            "archive until `finished`, then download it from `download_url`. A refused request writes nothing."
        ),
        request=EvidenceArchiveCreateSerializer,
        examples=[
            OpenApiExample(
                "A quarter at Mombasa",
                request_only=True,
                value={"hub": "KE-MBA", "date_from": "2026-01-01", "date_to": "2026-03-31"},
            )
        ],
        responses={
            202: EvidenceArchiveSerializer,
            400: OpenApiResponse(description="Not a hub you manage, or a range backwards, too long or in the future."),
            404: OpenApiResponse(description="You manage no hub."),
        },
    ),
)
class EvidenceArchiveViewSet(HubScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Evidence for an auditor, as on the /evidence/ pages: only a hub's managers see, build and download its
    archives; to anyone else they do not exist (404)."""

    # Managers only, not every member of the hub: ``evidence_archive_list_for_user`` scopes with ``manage``.
    hub_field = None

    serializer_class = EvidenceArchiveSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet:
        return evidence_archive_list_for_user(user=self.request.user)

    def get_serializer_class(self):
        return EvidenceArchiveCreateSerializer if self.action == "create" else EvidenceArchiveSerializer

    def create(self, request: Request, *args, **kwargs) -> Response:
        hubs = evidence_hub_list_for_user(user=request.user)
        if not hubs.exists():
            raise NotFound("You manage no hub: evidence archives are for a hub's managers.")
        serializer = EvidenceArchiveCreateSerializer(data=request.data, hubs=hubs)
        serializer.is_valid(raise_exception=True)
        try:
            archive = evidence_archive_start(actor=request.user, **serializer.validated_data)
        except DonationError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        started = self.get_queryset().get(pk=archive.pk)
        body = EvidenceArchiveSerializer(started, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=["evidence"],
        summary="Download a built evidence archive (zip)",
        parameters=[ARCHIVE_ID],
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description=NOT_A_MANAGER),
            409: OpenApiResponse(description="The archive is not built yet, its build failed, or its file is gone."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ZipRenderer])
    def download(self, request: Request, pk: str | None = None):
        archive = self.get_object()
        try:
            opened = evidence_archive_open(archive=archive)
        except DonationError as error:
            return Response(error_body(str(error)), status=status.HTTP_409_CONFLICT)
        response = FileResponse(opened, as_attachment=True, filename=evidence_archive_download_name(archive=archive))
        response["Content-Type"] = "application/zip"
        response["Cache-Control"] = "no-store"
        return response
