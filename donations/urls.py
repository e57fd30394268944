from django.urls import path

from . import views

app_name = "donations"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("sign-up/", views.signup, name="signup"),
    path("pledge/", views.pledge, name="pledge"),
    path("donations/<str:reference>/", views.detail, name="detail"),
]
