"""The hardware-report upload page, mounted by closegap.urls at scan/snapshots/."""

from django.urls import path

from refurbishing.hardware import views as snapshot_views

app_name = "snapshots"
urlpatterns = [
    path("upload/", snapshot_views.snapshot_upload, name="upload"),
]
