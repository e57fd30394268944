"""The person's own account pages, under /<language>/accounts/ (see closegap.urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path("security/", views.account, name="account"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/recovery-codes/", views.recovery_codes_new, name="two-factor-recovery"),
    path("two-factor/off/", views.two_factor_off, name="two-factor-off"),
    path("api-token/", views.api_token, name="api-token"),
]
