"""Route of the hardware-report upload, included by closegap.api_urls under /api/v1/."""

from django.urls import path

from common.ratelimit import rate_limit
from refurbishing.hardware.api import SnapshotCreateView

urlpatterns = [
    path("snapshots/", rate_limit("hardware_report")(SnapshotCreateView.as_view()), name="api-snapshot-create"),
]
