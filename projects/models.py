from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("application status", "submitted")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("application status", "changes requested")
    APPROVED = "approved", pgettext_lazy("application status", "approved")
    DECLINED = "declined", pgettext_lazy("application status", "declined")


class Project(models.Model):
    """A beneficiary: a school, clinic, entrepreneur or social project that receives devices."""

    Status = ApplicationStatus

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
    place = models.CharField(_("place"), max_length=200, blank=True, help_text=_("Town or district."))
    expected_beneficiaries = models.PositiveIntegerField(_("expected beneficiaries"), default=0)
    status = models.CharField(
        _("application status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        # Projects registered by a hub (admin, demo data) are approved; a coordinator's application starts submitted.
        default=ApplicationStatus.APPROVED,
    )
    review_reason = models.TextField(_("reason given at review"), blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
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


# The device categories and grades, as the core declares them (kept as plain choices: no import of its models here
# would be wrong, but the migration stays readable).
DEVICE_CATEGORIES = [
    ("laptop", _("laptop")),
    ("desktop", _("desktop")),
    ("tablet", _("tablet")),
    ("smartphone", _("smartphone")),
    ("monitor", _("monitor")),
    ("server", _("server")),
    ("networking", _("networking")),
    ("printer", _("printer")),
    ("other", _("other")),
]
GRADE_CHOICES = [("A", _("A: as new")), ("B", _("B: light wear")), ("C", _("C: visible wear, fully working"))]


class CpuClass(models.TextChoices):
    """A minimum processor class, read from the device's CPU description (see projects.selectors)."""

    ANY = "", _("any")
    ENTRY = "entry", _("entry (Core i3, Ryzen 3 or better)")
    MID = "mid", _("mid-range (Core i5, Ryzen 5 or better)")
    HIGH = "high", _("high (Core i7, Ryzen 7 or better)")


class DeviceRequest(models.Model):
    """A project's application for a number of devices of one category."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("device request status", "open")
        APPROVED = "approved", pgettext_lazy("device request status", "approved")
        FULFILLED = "fulfilled", pgettext_lazy("device request status", "fulfilled")
        REJECTED = "rejected", pgettext_lazy("device request status", "rejected")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="requests", verbose_name=_("project"))
    category = models.CharField(_("category"), max_length=20, choices=DEVICE_CATEGORIES)
    quantity = models.PositiveIntegerField(_("quantity"))
    min_ram_gb = models.PositiveSmallIntegerField(_("minimum RAM (GB)"), null=True, blank=True)
    min_storage_gb = models.PositiveIntegerField(_("minimum storage (GB)"), null=True, blank=True)
    min_cpu = models.CharField(
        _("minimum CPU"), max_length=10, choices=CpuClass.choices, default=CpuClass.ANY, blank=True
    )
    min_grade = models.CharField(
        _("lowest grade accepted"),
        max_length=1,
        choices=GRADE_CHOICES,
        default="C",
        help_text=_("A is as new; C shows wear but works fully."),
    )
    ssd_required = models.BooleanField(_("SSD required"), default=False)
    keyboard_layout = models.CharField(
        _("keyboard layout"), max_length=20, blank=True, help_text=_("e.g. QWERTY US, AZERTY FR.")
    )
    language = models.CharField(_("system language"), max_length=10, blank=True, help_text=_("e.g. en, fr, sw."))
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
    carrier = models.CharField(_("carrier"), max_length=120, blank=True)
    tracking_reference = models.CharField(_("tracking reference"), max_length=120, blank=True)
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
        ]

    def __str__(self) -> str:
        return gettext("Shipment %(id)s to %(project)s") % {"id": self.pk, "project": self.project.name}


class Allocation(models.Model):
    """A configured device set aside for a project (and the request it fills). One device, one allocation."""

    device = models.OneToOneField(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        related_name="allocation",
        verbose_name=_("device"),
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("project")
    )
    request = models.ForeignKey(
        DeviceRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("device request"),
    )
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("shipment"),
    )
    over_request = models.BooleanField(
        _("beyond the request"), default=False, help_text=_("A manager allocated more than was requested, on purpose.")
    )
    fit_exception = models.TextField(
        _("why it was allocated though it does not fit"),
        blank=True,
        help_text=_("A manager's reason for allocating a device that does not meet the request."),
    )
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    allocated_at = models.DateTimeField(_("allocated at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")

    def __str__(self) -> str:
        return f"{self.device_id} -> {self.project_id}"


class ProjectReview(models.Model):
    """A hub manager's decision on an application, kept as history; the coordinator is told once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("project"))
    decision = models.CharField(_("decision"), max_length=20, choices=ApplicationStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    notified_at = models.DateTimeField(_("coordinator notified at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("application review")
        verbose_name_plural = _("application reviews")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.decision}"


class DeliveryConfirmation(models.Model):
    """A coordinator's word that devices of a shipment arrived on a date and reach a number of people."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="confirmations", verbose_name=_("shipment")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    delivered_on = models.DateField(_("delivered on"))
    people_served = models.PositiveIntegerField(_("people served"))
    explanation = models.TextField(_("why more people than declared"), blank=True)
    note = models.TextField(_("note"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("delivery confirmation")
        verbose_name_plural = _("delivery confirmations")
        constraints = [
            models.CheckConstraint(condition=models.Q(people_served__gte=1), name="delivery_people_at_least_one"),
        ]

    def __str__(self) -> str:
        return gettext("Delivery confirmation %(id)s") % {"id": self.pk}


class DeliveryLine(models.Model):
    """What a confirmation says of one device of the shipment: arrived, missing or damaged."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", pgettext_lazy("delivery outcome", "arrived")
        MISSING = "missing", pgettext_lazy("delivery outcome", "missing")
        DAMAGED = "damaged", pgettext_lazy("delivery outcome", "damaged")

    confirmation = models.ForeignKey(DeliveryConfirmation, on_delete=models.CASCADE, related_name="lines")
    device = models.ForeignKey("refurbishing.Device", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    beneficiaries = models.PositiveIntegerField(_("people reached through this device"), default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["confirmation", "device"], name="delivery_line_once_per_device"),
            # A device is confirmed arrived once, whatever the number of confirmations.
            models.UniqueConstraint(
                fields=["device"], condition=models.Q(outcome="delivered"), name="delivery_line_delivered_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: {self.outcome}"


class DeliveryCorrection(models.Model):
    """A hub manager's correction of the people a confirmation reaches: a new row, the old figures stay."""

    confirmation = models.ForeignKey(
        DeliveryConfirmation, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("confirmation")
    )
    people_before = models.PositiveIntegerField(_("people before"))
    people_after = models.PositiveIntegerField(_("people after"))
    reason = models.TextField(_("reason"))
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("delivery correction")
        verbose_name_plural = _("delivery corrections")
        constraints = [
            models.CheckConstraint(condition=models.Q(people_after__gte=1), name="delivery_correction_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.people_before} -> {self.people_after}"


class ProjectStory(models.Model):
    """A short public story by the coordinator: text and counts, shown once a hub manager approves it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("story status", "waiting for approval")
        APPROVED = "approved", pgettext_lazy("story status", "published")
        DECLINED = "declined", pgettext_lazy("story status", "declined")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stories", verbose_name=_("project"))
    text = models.TextField(_("story"), max_length=1500)
    devices_count = models.PositiveIntegerField(_("devices in use"))
    people_count = models.PositiveIntegerField(_("people reached"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("project story")
        verbose_name_plural = _("project stories")

    def __str__(self) -> str:
        return self.text[:60]


class BeneficiaryOrganisation(models.Model):
    """A school, clinic, social enterprise or NGO that applies for devices: its users coordinate its projects."""

    name = models.CharField(_("organisation name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code."))
    place = models.CharField(_("town or city"), max_length=120)
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_phone = models.CharField(_("contact phone"), max_length=40)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="beneficiary_organisations",
        blank=True,
        verbose_name=_("users"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("beneficiary organisation")
        verbose_name_plural = _("beneficiary organisations")

    def __str__(self) -> str:
        return self.name
