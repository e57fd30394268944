from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import DonationCheckInCloseView, DonationCheckInScanView, DonationViewSet

router = SimpleRouter()
router.register("donations", DonationViewSet, basename="api-donation")

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
