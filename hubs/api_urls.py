from rest_framework.routers import SimpleRouter

from .api import HubViewSet

router = SimpleRouter()
router.register("hubs", HubViewSet, basename="api-hub")

urlpatterns = router.urls
