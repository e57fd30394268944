"""The REST API under /api/v1/: each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("hubs.api_urls")),
    path("", include("refurbishing.api_urls")),
    path("", include("impact.api_urls")),
]
