"""Hardware reports (eReuse Workbench snapshots), a device's storage drives and the wipe of each drive.

Imported by ``refurbishing.models``, so the app's models stay one namespace.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from refurbishing.models.devices import MediaType, SanitisationRecord


class Snapshot(models.Model):
    """One hardware report as Workbench sent it, kept unchanged as evidence, with what was read from it."""

    uuid = models.UUIDField(_("report UUID"), unique=True)
    software = models.CharField(_("software"), max_length=40, blank=True)
    software_version = models.CharField(_("software version"), max_length=40, blank=True)
    raw = models.JSONField(_("report as sent"))
    parsed = models.JSONField(_("what was read"), default=dict)
    serial_number = models.CharField(_("system serial number"), max_length=80, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=80, blank=True)
    model = models.CharField(_("model"), max_length=120, blank=True)
    # What the device already had that the report says otherwise: [{"field", "device", "report"}].
    differences = models.JSONField(_("differences from the device"), default=list, blank=True)
    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    device = models.ForeignKey(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="snapshots",
        verbose_name=_("device"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hardware report")
        verbose_name_plural = _("hardware reports")
        indexes = [
            # Reports waiting for their device, looked up by serial when a device is received.
            models.Index(
                fields=["serial_number", "hub"],
                condition=models.Q(device__isnull=True),
                name="snapshot_unlinked_serial_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model} {self.serial_number or self.uuid}".strip()


class Drive(models.Model):
    """One storage drive inside a device: read from a hardware report or entered by hand."""

    class Source(models.TextChoices):
        REPORT = "report", _("hardware report")
        HAND = "hand", _("entered by hand")

    device = models.ForeignKey(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        related_name="drives",
        verbose_name=_("device"),
    )
    model = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    size_gb = models.PositiveIntegerField(_("size (GB)"), null=True, blank=True)
    media_type = models.CharField(_("media type"), max_length=10, choices=MediaType.choices, default=MediaType.OTHER)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.HAND)
    snapshot = models.ForeignKey(
        Snapshot,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drives",
        verbose_name=_("hardware report"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["device", "id"]
        verbose_name = _("drive")
        verbose_name_plural = _("drives")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "serial_number"],
                condition=~models.Q(serial_number=""),
                name="drive_serial_unique_per_device",
                violation_error_message=_("This device already has a drive with this serial number."),
            ),
        ]

    def __str__(self) -> str:
        size = f" {self.size_gb} GB" if self.size_gb else ""
        label = self.serial_number or gettext("no serial")
        return f"{self.get_media_type_display()}{size} {self.model} ({label})".replace("  ", " ")

    @property
    def verified_wipe(self) -> "DriveSanitisation | None":
        """The drive's latest verified wipe, or None (reads prefetched ``sanitisations`` when there are)."""
        records = [record for record in self.sanitisations.all() if record.verified]
        return max(records, key=lambda record: (record.completed_at, record.pk), default=None)


class DriveSanitisation(models.Model):
    """Proof that one drive was sanitised (NIST SP 800-88), as the operator recorded it."""

    Method = SanitisationRecord.Method
    Verification = SanitisationRecord.Verification

    drive = models.ForeignKey(
        Drive,
        on_delete=models.PROTECT,
        related_name="sanitisations",
        verbose_name=_("drive"),
    )
    # As on the drive when it was wiped: the certificate quotes these even if the drive row is corrected later.
    drive_serial = models.CharField(_("drive serial number"), max_length=80, blank=True)
    media_type = models.CharField(_("media type"), max_length=10, choices=MediaType.choices)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    technique = models.CharField(
        _("technique"),
        max_length=120,
        help_text=_("e.g. single-pass overwrite, ATA Secure Erase, NVMe Format with crypto erase, shredding."),
    )
    tool = models.CharField(_("tool"), max_length=120, help_text=_("e.g. Blancco Drive Eraser, nwipe, shredder."))
    tool_version = models.CharField(_("tool version"), max_length=40, blank=True)
    verification = models.CharField(_("verification"), max_length=10, choices=Verification.choices)
    verified = models.BooleanField(_("verification passed"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operator"),
    )
    completed_at = models.DateTimeField(_("completed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-completed_at", "-id"]
        verbose_name = _("drive sanitisation record")
        verbose_name_plural = _("drive sanitisation records")

    def __str__(self) -> str:
        return gettext("%(method)s of drive %(serial)s with %(tool)s at %(time)s") % {
            "method": self.get_method_display(),
            "serial": self.drive_serial or gettext("no serial"),
            "tool": self.tool,
            "time": f"{self.completed_at:%Y-%m-%d %H:%M}",
        }
