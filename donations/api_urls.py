from rest_framework.routers import SimpleRouter

from .api import DonationViewSet

router = SimpleRouter()
router.register("donations", DonationViewSet, basename="api-donation")

urlpatterns = router.urls
