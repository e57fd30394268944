"""E-waste batches and the recyclers they go to: the records a hub's managers keep of what leaves for recycling."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecyclingPartner(models.Model):
    """A certified e-waste recycler a hub hands devices beyond reuse to (WorldLoop, a local recycler)."""

    class Certification(models.TextChoices):
        WEEELABEX = "weeelabex", "WEEELABEX"
        R2 = "r2", "R2"
        E_STEWARDS = "e_stewards", "e-Stewards"
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=120, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. BE or KE."))
    certification = models.CharField(_("certification"), max_length=20, choices=Certification.choices)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("recycling partner")
        verbose_name_plural = _("recycling partners")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_certification_display()})"


class RecyclingBatch(models.Model):
    """Devices of one hub handed over together to a recycling partner; closing it recycles every device."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    hub = models.ForeignKey(
        "hubs.Hub", on_delete=models.PROTECT, related_name="recycling_batches", verbose_name=_("hub")
    )
    partner = models.ForeignKey(
        RecyclingPartner,
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name=_("recycling partner"),
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    total_weight_kg = models.DecimalField(
        _("weighed total (kg)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("What the partner's scale showed for the whole batch."),
    )
    weights_by_category = models.JSONField(
        _("weights per category (kg)"),
        default=dict,
        blank=True,
        help_text=_('Optional, e.g. {"laptop": 120.5, "monitor": 80}.'),
    )
    certificate_reference = models.CharField(_("partner's certificate reference"), max_length=80, blank=True)
    certificate_date = models.DateField(_("partner's certificate date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recycling batch")
        verbose_name_plural = _("recycling batches")
        indexes = [models.Index(fields=["hub", "status"], name="recycling_batch_hub_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_weight_kg__isnull=True) | models.Q(total_weight_kg__gt=0),
                name="recycling_batch_weight_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class RecyclingBatchDevice(models.Model):
    """A device in a recycling batch; a device joins one batch only."""

    batch = models.ForeignKey(RecyclingBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch"))
    device = models.OneToOneField(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        related_name="recycling_item",
        verbose_name=_("device"),
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("device in a recycling batch")
        verbose_name_plural = _("devices in recycling batches")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.device_id}"
