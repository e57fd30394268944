from rest_framework.routers import SimpleRouter

from .api import DeliveryViewSet, DeviceRequestViewSet, ProjectViewSet, ShipmentViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("requests", DeviceRequestViewSet, basename="device-request")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("deliveries", DeliveryViewSet, basename="delivery")
urlpatterns = router.urls
