from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import impact_summary_view
from .reports.api import YearlyReportViewSet

router = SimpleRouter()
router.register("yearly-reports", YearlyReportViewSet, basename="api-yearly-report")

urlpatterns = [
    path("impact/", impact_summary_view, name="api-impact"),
    *router.urls,
]
