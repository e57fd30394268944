from django.urls import path

from .api import DonationCheckInCloseView, DonationCheckInScanView

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
]
