from django.urls import path

from . import hub_dashboard, views

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
]
