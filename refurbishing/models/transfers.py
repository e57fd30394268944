"""Transfers between hubs: devices sent from one hub to another, and checked in there."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Transfer(models.Model):
    """Devices sent from one hub to another (a sea container, a pallet), checked in by scanning on arrival."""

    class Status(models.TextChoices):
        SHIPPED = "shipped", _("in transit")
        CLOSED = "closed", _("checked in")

    from_hub = models.ForeignKey(
        "hubs.Hub", on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from hub")
    )
    to_hub = models.ForeignKey(
        "hubs.Hub", on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to hub")
    )
    reference = models.CharField(_("container or waybill reference"), max_length=60)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SHIPPED)
    shipped_at = models.DateTimeField(_("shipped at"))
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        verbose_name = _("transfer between hubs")
        verbose_name_plural = _("transfers between hubs")
        indexes = [
            models.Index(fields=["to_hub", "status"], name="transfer_to_hub_status_idx"),
            models.Index(fields=["from_hub", "status"], name="transfer_from_hub_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_hub=models.F("to_hub")), name="transfer_two_hubs"),
        ]

    def __str__(self) -> str:
        return self.reference


class TransferDevice(models.Model):
    """A device travelling in a transfer: received when scanned at the destination, missing if it never was."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", _("in transit")
        RECEIVED = "received", _("received")
        MISSING = "missing", _("missing")

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="items", verbose_name=_("transfer"))
    device = models.ForeignKey(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        related_name="transfer_items",
        verbose_name=_("device"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.IN_TRANSIT)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device in a transfer")
        verbose_name_plural = _("devices in transfers")
        constraints = [
            models.UniqueConstraint(fields=["transfer", "device"], name="transfer_device_once"),
            # A device travels in one transfer at a time.
            models.UniqueConstraint(
                fields=["device"],
                condition=models.Q(status="in_transit"),
                name="transfer_device_one_in_transit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.device_id}"
