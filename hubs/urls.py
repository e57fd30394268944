"""The person's own account pages, under /<language>/accounts/ beside Django's own (see closegap.urls)."""

from django.urls import path

from hubs.accounts import two_factor_views

from . import views

urlpatterns = [
    path("security/", two_factor_views.account, name="account"),
    path("two-factor/setup/", two_factor_views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/verify/", two_factor_views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/recovery-codes/", two_factor_views.recovery_codes_new, name="two-factor-recovery"),
    path("two-factor/off/", two_factor_views.two_factor_off, name="two-factor-off"),
    path("api-token/", two_factor_views.api_token, name="api-token"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<uidb64>/<token>/", views.verify_email, name="verify-email"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation-accept"),
]
