from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Project(models.Model):
    """A beneficiary: a school, clinic, entrepreneur or social project that receives devices."""

    class Kind(models.TextChoices):
        EDUCATION = "education", _("education")
        MEDICAL = "medical", _("medical")
        ENTREPRENEURSHIP = "entrepreneurship", _("entrepreneurship")
        SOCIAL = "social", _("social")

    organisation = models.CharField(_("beneficiary organisation"), max_length=200)
    name = models.CharField(_("project name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code."))
    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("serving hub"),
    )
    expected_beneficiaries = models.PositiveIntegerField(_("expected beneficiaries"), default=0)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="coordinated_projects",
        blank=True,
        verbose_name=_("coordinators"),
    )
    public = models.BooleanField(
        _("shown publicly"),
        default=False,
        help_text=_("The project agreed to appear on the public impact pages (no personal data is shown)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"


class DeviceRequest(models.Model):
    """A project's application for a number of devices of one category."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("device request status", "open")
        APPROVED = "approved", pgettext_lazy("device request status", "approved")
        FULFILLED = "fulfilled", pgettext_lazy("device request status", "fulfilled")
        REJECTED = "rejected", pgettext_lazy("device request status", "rejected")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="requests", verbose_name=_("project"))
    category = models.CharField(_("category"), max_length=20)
    quantity = models.PositiveIntegerField(_("quantity"))
    purpose = models.TextField(_("what the devices are for"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("device request")
        verbose_name_plural = _("device requests")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="device_request_quantity_positive"),
        ]

    def __str__(self) -> str:
        return gettext("%(quantity)s x %(category)s for %(project)s") % {
            "quantity": self.quantity,
            "category": self.category,
            "project": self.project.name,
        }


class Shipment(models.Model):
    """Devices allocated to a project and sent from a hub; confirmed at delivery with beneficiaries reached."""

    class Status(models.TextChoices):
        PREPARING = "preparing", pgettext_lazy("shipment status", "preparing")
        SHIPPED = "shipped", pgettext_lazy("shipment status", "shipped")
        DELIVERED = "delivered", pgettext_lazy("shipment status", "delivered")

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("project"),
    )
    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("hub"))
    devices = models.ManyToManyField(
        "refurbishing.Device",
        related_name="shipments",
        blank=True,
        verbose_name=_("devices"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PREPARING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    beneficiaries_confirmed = models.PositiveIntegerField(
        _("beneficiaries confirmed"),
        null=True,
        blank=True,
        help_text=_("How many people the devices reach, as confirmed by the project at delivery."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="delivered", beneficiaries_confirmed__isnull=False)
                | ~models.Q(status="delivered"),
                name="shipment_delivered_has_beneficiaries",
            ),
            # Allocations add to the one shipment being prepared; two at once must not open a second.
            models.UniqueConstraint(
                fields=["project", "hub"],
                condition=models.Q(status="preparing"),
                name="shipment_one_preparing_per_project_and_hub",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Shipment %(id)s to %(project)s") % {"id": self.pk, "project": self.project.name}
