from django.urls import path, register_converter

from . import team_views, views


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
    path("e-resource/", views.e_resource, name="e-resource"),
    path("e-resource/<int:pk>/certificate.pdf", views.e_resource_certificate, name="e-resource-certificate"),
    path("team/", team_views.donor_team.team, name="team"),
    path("team/<int:organisation_id>/invite/", team_views.donor_team.team_invite, name="team-invite"),
    path(
        "team/<int:organisation_id>/users/<int:user_id>/remove/",
        team_views.donor_team.team_member_remove,
        name="team-remove",
    ),
    path(
        "team/<int:organisation_id>/invitations/<int:invitation_id>/withdraw/",
        team_views.donor_team.team_invitation_withdraw,
        name="team-withdraw",
    ),
    path("donations/<str:reference>/edit/", views.edit, name="edit"),
    path("donations/<str:reference>/cancel/", views.cancel, name="cancel"),
    path("donations/<str:reference>/import/", views.import_into, name="import_into"),
    path("import/", views.import_pledge, name="import_pledge"),
    path("import/template.csv", views.import_template, {"kind": "csv"}, name="import_template_csv"),
    path("import/template.xlsx", views.import_template, {"kind": "xlsx"}, name="import_template_xlsx"),
    path("imports/<int:pk>/", views.import_preview, name="import_preview"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/progress.json", views.import_progress_json, name="import_progress_json"),
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
