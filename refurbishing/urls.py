"""The scan station, at /<language>/scan/; /scan/... without a language redirects there (LocaleMiddleware)."""

from django.urls import path

from refurbishing.bulk import views as bulk_views
from refurbishing.hardware import sampling_views
from refurbishing.scan import offline as offline_views
from refurbishing.scan import views as scan_views
from refurbishing.transfers import views as transfer_views

app_name = "scan"
urlpatterns = [
    path("", scan_views.station, name="station"),
    path("sw.js", offline_views.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline_views.manifest, name="manifest"),
    path("offline/", offline_views.offline_page, name="offline"),
    path("offline-kit/", scan_views.offline_kit, name="offline-kit"),
    path("bulk/", bulk_views.scan_bulk, name="bulk"),
    path("bulk/<int:pk>/", bulk_views.bulk_job_page, name="bulk-job"),
    path("bulk/<int:pk>/progress.json", bulk_views.bulk_job_json, name="bulk-job-json"),
    path("labels.pdf", scan_views.labels_pdf_view, name="labels"),
    path("wipe-samples/", sampling_views.wipe_samples, name="wipe-samples"),
    path("transfers/", transfer_views.start, name="transfers"),
    path("transfers/<int:transfer_id>/", transfer_views.check_in, name="transfer"),
    path("transfers/<int:transfer_id>/close/", transfer_views.close, name="transfer-close"),
    path("d/<str:label_code>/", scan_views.device_card, name="device"),
    path("d/<str:label_code>/<str:action>/", scan_views.device_action, name="device-action"),
]
