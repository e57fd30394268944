from django.urls import path

from .api import impact_summary_view

urlpatterns = [
    path("impact/", impact_summary_view, name="api-impact"),
]
