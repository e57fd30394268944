from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("shipments/<int:pk>/deliver/", views.shipment_confirm_delivery, name="deliver"),
]
