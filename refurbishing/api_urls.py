from django.urls import path
from rest_framework.routers import SimpleRouter

from refurbishing.hardware.sampling_api import WipeSampleViewSet
from refurbishing.scan.sync_api import SyncDevicesView, SyncTransfersView, SyncView

from .api import DeviceViewSet
from .recycling.api import RecyclingBatchViewSet, VendorViewSet
from .transfers.api import TransferViewSet
from .work_orders.api import WorkOrderViewSet

router = SimpleRouter()
router.register("devices", DeviceViewSet, basename="api-device")
router.register("recycling-batches", RecyclingBatchViewSet, basename="api-recycling-batch")
router.register("transfers", TransferViewSet, basename="api-transfer")
router.register("vendors", VendorViewSet, basename="api-vendor")
router.register("work-orders", WorkOrderViewSet, basename="api-work-order")
router.register("wipe-samples", WipeSampleViewSet, basename="api-wipe-sample")

urlpatterns = [
    path("sync/", SyncView.as_view(), name="api-sync"),
    path("sync/devices/", SyncDevicesView.as_view(), name="api-sync-devices"),
    path("sync/transfers/", SyncTransfersView.as_view(), name="api-sync-transfers"),
    *router.urls,
]
