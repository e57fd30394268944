from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import (
    DonationCheckInCloseView,
    DonationCheckInScanView,
    DonationViewSet,
    EResourceCommitmentViewSet,
    EvidenceArchiveViewSet,
)

router = SimpleRouter()
router.register("donations", DonationViewSet, basename="api-donation")
router.register("e-resource/commitments", EResourceCommitmentViewSet, basename="api-e-resource-commitment")
router.register("evidence-archives", EvidenceArchiveViewSet, basename="api-evidence-archive")

urlpatterns = [
    path(
        "donations/<str:reference>/check-in/",
        DonationCheckInScanView.as_view(),
        name="api-donation-check-in",
    ),
    path(
        "donations/<str:reference>/check-in/close/",
        DonationCheckInCloseView.as_view(),
        name="api-donation-check-in-close",
    ),
    *router.urls,
]
