from django.urls import path, re_path

from . import hub_dashboard, views
from .reports import views as report_views

app_name = "impact"
urlpatterns = [
    path("", views.home, name="home"),
    path("hubs/<str:code>/", views.hub_detail, name="hub"),
    path("hubs/<str:code>/dashboard/", hub_dashboard.hub_dashboard, name="hub-dashboard"),
    # Under "public/": "projects/" is the coordinators' portal (projects.urls).
    path("public/projects/", views.public_project_list, name="project-list"),
    path("public/projects/<int:pk>/", views.public_project_detail, name="project"),
    path("widget/", views.widget, name="widget"),
    # The donor portal's "Your impact" lives here, beside the public estimate whose factors it reuses.
    path("donors/impact/", views.donor_impact, name="donor-impact"),
    # The yearly sustainability report: above the donor side, since it needs the public page's emission factors.
    path("donors/reports/", report_views.yearly_report_list, name="yearly-report-list"),
    re_path(
        r"^donors/reports/(?P<number>[A-Za-z0-9-]+)\.(?P<extension>pdf|xlsx)$",
        report_views.yearly_report_download,
        name="yearly-report-download",
    ),
    path("donors/reports/<str:number>/xlsx/", report_views.yearly_report_xlsx_page, name="yearly-report-xlsx"),
    path(
        "donors/reports/<str:number>/xlsx/progress/",
        report_views.yearly_report_xlsx_json,
        name="yearly-report-xlsx-json",
    ),
    path(
        "donors/reports/<str:number>/xlsx/file/",
        report_views.yearly_report_xlsx_file,
        name="yearly-report-xlsx-file",
    ),
]
