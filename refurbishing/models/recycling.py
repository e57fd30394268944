"""E-waste batches and the recyclers they go to: the records a hub's managers keep of what leaves for recycling,
and the register of downstream vendors with their certificates, as an R2v3 or e-Stewards auditor checks it."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class WasteStream(models.TextChoices):
    """A stream of e-waste a vendor's certificate may cover; which streams a batch holds comes from its devices
    (``refurbishing.recycling.streams``)."""

    BATTERIES = "batteries", _("batteries")
    CIRCUIT_BOARDS = "circuit_boards", _("circuit boards")
    CRT_GLASS = "crt_glass", _("CRT glass")
    PLASTICS = "plastics", _("plastics")
    METALS = "metals", _("metals")
    # Devices handed over with their storage media not wiped: the vendor destroys the data. A certificate covering
    # this stream is what makes a vendor qualified to destroy data (there is no separate flag to disagree with it).
    DATA_BEARING_DEVICES = "data_bearing_devices", _("whole data-bearing devices (data destroyed by the vendor)")


def validate_waste_streams(value: object) -> None:
    """A certificate's scope: a list of waste stream codes, at least one, each once."""
    if not isinstance(value, list) or not value or not all(isinstance(stream, str) for stream in value):
        raise ValidationError(_("Choose the waste streams the certificate covers."))
    unknown = [stream for stream in value if stream not in WasteStream.values]
    if unknown:
        raise ValidationError(
            _("%(streams)s: not a waste stream. The streams are: %(known)s.")
            % {"streams": ", ".join(unknown), "known": ", ".join(WasteStream.values)}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("List each waste stream once."))


class RecyclingPartner(models.Model):
    """A downstream vendor: an e-waste recycler a hub hands devices beyond reuse to (WorldLoop, a local recycler).

    What a batch may be sent to it for is what its dated certificates (``VendorCertificate``) cover; the
    ``certification`` it is listed with is a label only, never checked.
    """

    class Certification(models.TextChoices):
        WEEELABEX = "weeelabex", "WEEELABEX"
        R2 = "r2", "R2"
        E_STEWARDS = "e_stewards", "e-Stewards"
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=120, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. BE or KE."))
    certification = models.CharField(
        _("certification"),
        max_length=20,
        choices=Certification.choices,
        help_text=_(
            "The scheme the vendor is known by, for lists. Batches are checked against its certificates below, "
            "with their numbers, waste streams and dates."
        ),
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("downstream vendor")
        verbose_name_plural = _("downstream vendors")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_certification_display()})"


class VendorCertificate(models.Model):
    """One certificate of a downstream vendor: its scheme and number, the waste streams it covers, when it is valid."""

    class Scheme(models.TextChoices):
        R2V3 = "r2v3", "R2v3"
        E_STEWARDS = "e_stewards", "e-Stewards"
        WEEELABEX = "weeelabex", "WEEELABEX"
        ISO_14001 = "iso_14001", "ISO 14001"
        LOCAL_LICENCE = "local_licence", _("local licence")

    vendor = models.ForeignKey(
        RecyclingPartner,
        on_delete=models.CASCADE,
        related_name="certificates",
        verbose_name=_("downstream vendor"),
    )
    scheme = models.CharField(_("scheme"), max_length=20, choices=Scheme.choices)
    number = models.CharField(_("certificate number"), max_length=80)
    scope = models.JSONField(
        _("waste streams covered"),
        default=list,
        validators=[validate_waste_streams],
        help_text=_("As the certificate's scope lists them. Whole data-bearing devices: the vendor destroys data."),
    )
    valid_from = models.DateField(_("valid from"))
    expires_on = models.DateField(_("expires on"), help_text=_("The last day the certificate is valid."))
    # Set once, when the managers were told the certificate expires soon (the expiry reminder claims it).
    reminded_at = models.DateTimeField(_("expiry reminder sent at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["vendor", "-expires_on", "id"]
        verbose_name = _("vendor certificate")
        verbose_name_plural = _("vendor certificates")
        indexes = [models.Index(fields=["expires_on"], name="vendor_certificate_expiry_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "scheme", "number"],
                name="vendor_certificate_unique_number",
                violation_error_message=_("This vendor already has a certificate of this scheme with this number."),
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("valid_from")),
                name="vendor_certificate_expires_after_start",
                violation_error_message=_("A certificate expires on or after the day it becomes valid."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.number}"

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.expires_on

    @property
    def destroys_data(self) -> bool:
        """Whether the vendor is qualified to destroy data under this certificate (it covers data-bearing devices)."""
        return WasteStream.DATA_BEARING_DEVICES in (self.scope or [])


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
        verbose_name=_("downstream vendor"),
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
    # Written when the batch closes (its dispatch), so the recycling certificate can name what covered it even after
    # the vendor renews: the streams the batch held, and the vendor's certificates valid that day, as they read then
    # ([{"scheme", "number", "valid_from", "expires_on", "streams"}], "streams" being those of the batch it covered).
    waste_streams = models.JSONField(_("waste streams"), default=list, blank=True, editable=False)
    vendor_certificates = models.JSONField(
        _("vendor's certificates at dispatch"),
        default=list,
        blank=True,
        editable=False,
    )
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
    # Set when the batch closes, for a device handed over with its data not wiped, for the vendor to destroy.
    data_destroyed_by_vendor = models.BooleanField(_("data destroyed by the vendor"), default=False, editable=False)

    class Meta:
        verbose_name = _("device in a recycling batch")
        verbose_name_plural = _("devices in recycling batches")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.device_id}"
