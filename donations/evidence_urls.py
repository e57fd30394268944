"""Evidence for an auditor, mounted by closegap.urls at /<lang>/evidence/."""

from django.urls import path

from donations import evidence_views

app_name = "evidence"
urlpatterns = [
    path("", evidence_views.evidence_start, name="start"),
    path("<int:pk>/", evidence_views.evidence_archive, name="archive"),
    path("<int:pk>/progress.json", evidence_views.evidence_archive_json, name="archive-json"),
    path("<int:pk>/download/", evidence_views.evidence_archive_download, name="download"),
]
