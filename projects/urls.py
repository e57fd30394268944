from django.urls import path

from . import organisation_views, views

app_name = "projects"
urlpatterns = [
    # Coordinators: My projects, applications, shipments.
    path("", views.portal, name="portal"),
    path("applications/", views.applications, name="applications"),
    path("apply/", views.apply, name="apply"),
    path("<int:pk>/", views.project_detail, name="project"),
    path("<int:pk>/story/", views.story_submit, name="story"),
    path("shipments/", views.shipments, name="shipments"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment"),
    # A beneficiary organisation signs up; its users invite and remove colleagues.
    path("sign-up/", organisation_views.signup, name="signup"),
    path("team/", organisation_views.beneficiary_team.team, name="team"),
    path("team/<int:organisation_id>/invite/", organisation_views.beneficiary_team.team_invite, name="team-invite"),
    path(
        "team/<int:organisation_id>/users/<int:user_id>/remove/",
        organisation_views.beneficiary_team.team_member_remove,
        name="team-remove",
    ),
    path(
        "team/<int:organisation_id>/invitations/<int:invitation_id>/withdraw/",
        organisation_views.beneficiary_team.team_invitation_withdraw,
        name="team-withdraw",
    ),
    # Hub staff and managers.
    path("hub/", views.hub_dashboard, name="hub"),
    path("hub/applications/<int:pk>/", views.hub_review, name="hub-review"),
    path("hub/requests/<int:pk>/", views.hub_request, name="hub-request"),
    path("hub/projects/<int:pk>/shipments/", views.hub_shipment_create, name="hub-shipment-create"),
    path("hub/shipments/<int:pk>/", views.hub_shipment, name="hub-shipment"),
    path("hub/shipments/<int:pk>/packing-list.pdf", views.packing_list, name="packing-list"),
    path("hub/deliveries/<int:pk>/correct/", views.hub_correct, name="hub-correct"),
    path("hub/stories/<int:pk>/", views.hub_story, name="hub-story"),
]
