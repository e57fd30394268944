"""Check-in of a donation on the scan station (under /scan/check-in/)."""

from django.urls import path

from . import check_in_views

app_name = "check-in"
urlpatterns = [
    path("", check_in_views.start, name="start"),
    path("<str:reference>/", check_in_views.check_in, name="donation"),
    path("<str:reference>/close/", check_in_views.close, name="close"),
    path("<str:reference>/labels.pdf", check_in_views.labels, name="labels"),
]
