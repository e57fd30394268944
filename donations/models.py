from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from common.jobs import BuildProgress


class Donor(models.Model):
    """An organisation that donates equipment (a company, a public body, a school board)."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    registration_number = models.CharField(
        _("registration or VAT number"),
        max_length=40,
        unique=True,
        help_text=_("Company registration or VAT number, e.g. BE0123456789."),
    )
    country = CountryField(_("country"))
    address = models.TextField(_("address"))
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="donors",
        blank=True,
        verbose_name=_("users"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("donor")
        verbose_name_plural = _("donors")

    def __str__(self) -> str:
        return self.legal_name


class Donation(models.Model):
    """A pledged batch of equipment from one donor, received and processed by one hub."""

    class Status(models.TextChoices):
        PLEDGED = "pledged", pgettext_lazy("donation status", "pledged")
        RECEIVED = "received", pgettext_lazy("donation status", "received")
        CLOSED = "closed", pgettext_lazy("donation status", "closed")
        CANCELLED = "cancelled", pgettext_lazy("donation status", "cancelled")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="donations", verbose_name=_("donor"))
    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        related_name="donations",
        verbose_name=_("receiving hub"),
    )
    pickup_address = models.TextField(_("pickup address"))
    pledged_at = models.DateTimeField(_("pledged at"), auto_now_add=True)
    pickup_date = models.DateField(_("preferred pickup date"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLEDGED)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-pledged_at"]
        verbose_name = _("donation")
        verbose_name_plural = _("donations")

    def __str__(self) -> str:
        return self.reference


class DonationChange(models.Model):
    """One change to a pledge (edited, cancelled, devices imported): who, when and what. Append-only."""

    class Kind(models.TextChoices):
        EDITED = "edited", pgettext_lazy("donation change", "edited")
        CANCELLED = "cancelled", pgettext_lazy("donation change", "cancelled")
        DEVICES_IMPORTED = "devices_imported", pgettext_lazy("donation change", "devices imported")

    donation = models.ForeignKey(
        Donation,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("donation"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)
    # {"field": [old, new]} for an edit; {"count": n, "file": name} for an import; {"reason": text} for a cancel.
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("donation change")
        verbose_name_plural = _("donation changes")

    def __str__(self) -> str:
        return f"{self.donation_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class SpreadsheetImport(models.Model):
    """An uploaded asset list on its way to becoming devices: the file, its column mapping, and its progress."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", pgettext_lazy("import status", "waiting for your check")
        QUEUED = "queued", pgettext_lazy("import status", "queued")
        RUNNING = "running", pgettext_lazy("import status", "importing")
        DONE = "done", pgettext_lazy("import status", "imported")
        FAILED = "failed", pgettext_lazy("import status", "not imported")

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="imports", verbose_name=_("donor"))
    # Empty for a pledge made from a spreadsheet: the donation is created with its devices, both or neither.
    donation = models.ForeignKey(
        Donation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="imports",
        verbose_name=_("donation"),
    )
    pledge = models.JSONField(_("pledge details"), default=dict, blank=True)
    filename = models.CharField(_("file name"), max_length=200)
    # Held in the database rather than on a disk, so any web process or worker can read it; the size is
    # bounded by IMPORT_MAX_FILE_BYTES, and the content is dropped once the import is done.
    content = models.BinaryField(_("content"), editable=False)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("devices imported"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    problem_count = models.PositiveIntegerField(_("problem count"), default=0)
    # What the check found, for the page that asks before anything is written: a few values of each column
    # ("samples"), the first devices as they will be written ("rows") and the totals ("devices", "by_category",
    # "with_storage").
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")

    def __str__(self) -> str:
        return self.filename


class Certificate(models.Model):
    """A certificate issued for a donation, frozen at issue: its rows are a snapshot and the row never changes.

    A correction is a new certificate that ``supersedes`` this one; nothing is ever updated or deleted (database
    triggers refuse it, see migration ``certificate_append_only``).
    """

    class Kind(models.TextChoices):
        SANITISATION = "sanitisation", _("data sanitisation certificate")
        RECYCLING = "recycling", _("recycling certificate")

    number = models.CharField(_("certificate number"), max_length=40, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    donation = models.ForeignKey(
        Donation,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("donation"),
    )
    donor_name = models.CharField(_("donor, as named at issue"), max_length=200)
    issued_at = models.DateTimeField(_("issued at"))
    device_count = models.PositiveIntegerField(_("devices"))
    rows = models.JSONField(_("devices certified"), default=list)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    reason = models.TextField(_("reason for reissue"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            # One first certificate per donation and kind; each later one supersedes exactly one (the one-to-one
            # field), so the certificates of a donation form a single chain with one current end.
            models.UniqueConstraint(
                fields=["donation", "kind"],
                condition=models.Q(supersedes__isnull=True),
                name="certificate_one_first_per_donation_and_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["sanitisation", "recycling"]),
                name="certificate_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class EResourceCommitment(models.Model):
    """A donor's e-Resource commitment: it funds the responsible recycling in Africa of as many kilograms of e-waste
    as it commits to, and the kilograms of batches dispatched at African hubs are allocated to it until covered."""

    class Basis(models.TextChoices):
        DEVICES = "devices", pgettext_lazy("e-resource basis", "devices sent to Africa")
        KILOGRAMS = "kilograms", pgettext_lazy("e-resource basis", "kilograms")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("e-resource status", "in progress")
        COVERED = "covered", pgettext_lazy("e-resource status", "covered")

    donor = models.ForeignKey(
        Donor,
        on_delete=models.PROTECT,
        related_name="e_resource_commitments",
        verbose_name=_("donor"),
    )
    basis = models.CharField(_("commitment by"), max_length=10, choices=Basis.choices)
    # The number of devices the donor states it sends to Africa, for a commitment by devices; the target is then
    # that many times ``E_RESOURCE_KG_PER_DEVICE``, fixed when the commitment is made.
    devices = models.PositiveIntegerField(_("devices"), null=True, blank=True)
    target_kg = models.DecimalField(_("kilograms to compensate"), max_digits=12, decimal_places=2)
    allocated_kg = models.DecimalField(_("kilograms allocated"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    covered_at = models.DateTimeField(_("covered at"), null=True, blank=True)
    # Given once, in the transaction whose allocation covers the commitment: the e-Resource certificate's number.
    certificate_number = models.CharField(
        _("certificate number"), max_length=40, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-Resource commitment")
        verbose_name_plural = _("e-Resource commitments")
        indexes = [models.Index(fields=["status", "created_at", "id"], name="eresource_commit_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(target_kg__gt=0), name="eresource_commitment_target_positive"),
            models.CheckConstraint(
                condition=models.Q(allocated_kg__gte=0, allocated_kg__lte=models.F("target_kg")),
                name="eresource_commitment_allocated_within_target",
            ),
            models.CheckConstraint(
                condition=models.Q(basis="devices", devices__gt=0) | models.Q(basis="kilograms", devices__isnull=True),
                name="eresource_commitment_devices_with_basis",
            ),
            # Covered exactly when every kilogram is allocated; only then is there a certificate.
            models.CheckConstraint(
                condition=models.Q(
                    status="covered",
                    allocated_kg=models.F("target_kg"),
                    covered_at__isnull=False,
                    certificate_number__isnull=False,
                )
                | models.Q(status="open", covered_at__isnull=True, certificate_number__isnull=True),
                name="eresource_commitment_covered_when_full",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donor} {self.target_kg} kg"

    @property
    def remaining_kg(self):
        return self.target_kg - self.allocated_kg

    @property
    def percent(self) -> int:
        """How much is covered, in whole percent, rounded down (100 only when covered)."""
        return int(self.allocated_kg * 100 // self.target_kg) if self.target_kg else 0


class EResourceSource(models.Model):
    """A recycling batch dispatched at an African hub, as a source of e-Resource kilograms: its weighed total and how
    much of it is allocated. The row is the batch's lock: every allocation from the batch locks it first."""

    batch = models.OneToOneField(
        "refurbishing.RecyclingBatch",
        on_delete=models.PROTECT,
        related_name="e_resource_source",
        verbose_name=_("recycling batch"),
    )
    kg = models.DecimalField(_("kilograms"), max_digits=12, decimal_places=2)
    allocated_kg = models.DecimalField(_("kilograms allocated"), max_digits=12, decimal_places=2, default=0)
    dispatched_at = models.DateTimeField(_("dispatched at"))

    class Meta:
        verbose_name = _("e-Resource source batch")
        verbose_name_plural = _("e-Resource source batches")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allocated_kg__gte=0, allocated_kg__lte=models.F("kg")),
                name="eresource_source_allocated_within_weight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.allocated_kg}/{self.kg} kg"


class EResourceAllocation(models.Model):
    """Kilograms of one dispatched batch allocated to one commitment. Written once, never changed."""

    source = models.ForeignKey(
        EResourceSource,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("source batch"),
    )
    commitment = models.ForeignKey(
        EResourceCommitment,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("commitment"),
    )
    kg = models.DecimalField(_("kilograms"), max_digits=12, decimal_places=2)
    allocated_at = models.DateTimeField(_("allocated at"), auto_now_add=True)
    # The impact fold's marker: set in the transaction that adds the kilograms to the public counter.
    impact_counted = models.BooleanField(_("counted in impact"), default=False, editable=False)

    class Meta:
        ordering = ["allocated_at", "id"]
        verbose_name = _("e-Resource allocation")
        verbose_name_plural = _("e-Resource allocations")
        indexes = [
            models.Index(fields=["id"], condition=models.Q(impact_counted=False), name="eresource_alloc_uncounted_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "commitment"], name="eresource_allocation_once_per_pair"),
            models.CheckConstraint(condition=models.Q(kg__gt=0), name="eresource_allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.commitment_id}: {self.kg} kg"


class EvidenceArchive(BuildProgress, models.Model):
    """An auditor's evidence for one hub and date range, built as one zip by a Celery task, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("evidence archive status", "queued")
        RUNNING = "running", pgettext_lazy("evidence archive status", "being built")
        DONE = "done", pgettext_lazy("evidence archive status", "ready")
        FAILED = "failed", pgettext_lazy("evidence archive status", "failed")

    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to (inclusive)"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("parts"), default=0)
    done = models.PositiveIntegerField(_("parts done"), default=0)
    # Where the zip is, in the default storage (never served by the web server: downloaded through its view).
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    sha256 = models.CharField(_("SHA-256 of the archive"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    hub_path = "hub"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("evidence archive")
        verbose_name_plural = _("evidence archives")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_from__lte=models.F("date_to")), name="evidence_range_forward"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hub_id} {self.date_from}..{self.date_to}"
