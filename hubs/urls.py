from django.urls import path

from . import views

# Included under /<language>/accounts/ beside Django's own account pages.
urlpatterns = [
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<uidb64>/<token>/", views.verify_email, name="verify-email"),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation-accept"),
]
