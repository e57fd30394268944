"""API: the public impact totals, served from the cache (no query when warm) and readable cross-origin."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .selectors import impact_summary

# Short enough that the numbers stay live, long enough that a busy page or widget is served by caches.
CACHE_CONTROL = "public, max-age=5"


class _ImpactTotalsSerializer(serializers.Serializer):
    devices_received = serializers.IntegerField()
    devices_refurbished = serializers.IntegerField()
    devices_delivered = serializers.IntegerField()
    beneficiaries_reached = serializers.IntegerField()
    ewaste_recycled_kg = serializers.FloatField()


class ImpactHubSerializer(_ImpactTotalsSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()


class ImpactSummarySerializer(_ImpactTotalsSerializer):
    updated_at = serializers.DateTimeField()
    by_hub = ImpactHubSerializer(many=True)


@extend_schema(tags=["impact"], responses=ImpactSummarySerializer, summary="Public impact totals")
@api_view(["GET"])
# No authentication at all: the endpoint is public, so it never touches the session or CSRF machinery.
@authentication_classes([])
@permission_classes([AllowAny])
def impact_summary_view(request: Request) -> Response:
    """Devices received, refurbished and delivered, people reached and e-waste recycled, in total and by hub."""
    response = Response(impact_summary())
    response["Cache-Control"] = CACHE_CONTROL
    return response
