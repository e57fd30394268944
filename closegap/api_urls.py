"""The REST API under /api/v1/: each app contributes its own routes."""

from django.urls import include, path

from hubs.api import AuthTokenCurrentView, AuthTokenView

urlpatterns = [
    # First: the busiest address of the API (the public figures partner sites read) is found before Django
    # tries the routers' hundred-odd patterns.
    path("", include("impact.api_urls")),
    path("auth/token/", AuthTokenView.as_view(), name="api-auth-token"),
    path("auth/token/current/", AuthTokenCurrentView.as_view(), name="api-auth-token-current"),
    path("", include("hubs.api_urls")),
    path("", include("refurbishing.api_urls")),
    path("", include("refurbishing.hardware.api_urls")),
    path("", include("donations.api_urls")),
    path("", include("projects.api_urls")),
]
