from django.urls import path

from . import team_views, views

app_name = "donations"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("sign-up/", views.signup, name="signup"),
    path("pledge/", views.pledge, name="pledge"),
    path("donations/<str:reference>/", views.detail, name="detail"),
    path("team/", team_views.team, name="team"),
    path("team/<int:donor_id>/invite/", team_views.team_invite, name="team-invite"),
    path("team/<int:donor_id>/users/<int:user_id>/remove/", team_views.team_member_remove, name="team-remove"),
    path(
        "team/<int:donor_id>/invitations/<int:invitation_id>/withdraw/",
        team_views.team_invitation_withdraw,
        name="team-withdraw",
    ),
]
