from django.urls import path, register_converter

from . import views


class SpreadsheetConverter:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ReportConverter(SpreadsheetConverter):
    regex = "xlsx|pdf"


register_converter(SpreadsheetConverter, "spreadsheet")
register_converter(ReportConverter, "report")

app_name = "donations"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("sign-up/", views.signup, name="signup"),
    path("pledge/", views.pledge, name="pledge"),
    path("devices.<spreadsheet:extension>", views.devices_export, name="devices-export"),
    path("donations/<str:reference>/", views.detail, name="detail"),
    path("donations/<str:reference>/devices/<int:pk>/", views.device_detail, name="device"),
    path(
        "donations/<str:reference>/devices.<spreadsheet:extension>",
        views.donation_devices_export,
        name="donation-devices-export",
    ),
    path("donations/<str:reference>/asset-report.<report:extension>", views.asset_report, name="asset-report"),
    path("donations/<str:reference>/certificate.pdf", views.certificate, name="certificate"),
    path(
        "donations/<str:reference>/recycling-certificate.pdf",
        views.recycling_certificate,
        name="recycling-certificate",
    ),
]
