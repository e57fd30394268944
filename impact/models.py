from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.jobs import BuildProgress


class Metric(models.TextChoices):
    DEVICES_RECEIVED = "devices_received", _("devices received")
    DEVICES_SANITISED = "devices_sanitised", _("devices sanitised")
    DEVICES_REFURBISHED = "devices_refurbished", _("devices refurbished")
    DEVICES_DELIVERED = "devices_delivered", _("devices delivered")
    BENEFICIARIES_REACHED = "beneficiaries_reached", _("beneficiaries reached")
    DEVICES_RECYCLED = "devices_recycled", _("devices recycled")
    EWASTE_RECYCLED_KG = "ewaste_recycled_kg", _("e-waste recycled (kg)")
    # Kilograms of batches dispatched at African hubs allocated to donors' e-Resource commitments (donations).
    EWASTE_COMPENSATED_KG = "ewaste_compensated_kg", _("e-waste compensated through e-Resource (kg)")


class ImpactCounter(models.Model):
    """One cell of the public read model: a metric's total for one hub, project kind, device category and month.

    Every roll-up (total, per hub, per country, per kind, per month, CO2e by category) is a sum of cells; the
    table stays small (metrics x hubs x kinds x categories x months) however many events are folded into it.
    """

    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    project_kind = models.CharField(_("project kind"), max_length=20, blank=True)
    device_category = models.CharField(_("device category"), max_length=20, blank=True)
    month = models.DateField(_("month"), help_text=_("First day of the month the events happened in."))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=3, default=0)

    class Meta:
        verbose_name = _("impact counter")
        verbose_name_plural = _("impact counters")
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "hub", "project_kind", "device_category", "month"], name="impact_counter_cell"
            ),
        ]

    def __str__(self) -> str:
        kind, category = self.project_kind or "-", self.device_category or "-"
        return f"{self.get_metric_display()} {self.hub_id} {kind} {category} {self.month:%Y-%m}: {self.value}"


class OpeningBalance(models.Model):
    """A hub's historic total for one metric from before the platform (the only figure typed in)."""

    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.CASCADE,
        related_name="impact_opening_balances",
        verbose_name=_("hub"),
    )
    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=3, default=0)
    note = models.CharField(_("source or note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("opening balance")
        verbose_name_plural = _("opening balances")
        constraints = [
            models.UniqueConstraint(fields=["hub", "metric"], name="impact_opening_balance_unique"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="impact_opening_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.hub} {self.get_metric_display()}: {self.value}"


class EmissionFactor(models.Model):
    """A published factor for the environmental estimate, with its source; staff keep these up to date.

    ``applies_to`` is a device category (the factor is kg CO2e of manufacturing avoided per device reused) or
    ``ewaste_kg`` (kg CO2e avoided per kg of e-waste recycled responsibly).
    """

    EWASTE = "ewaste_kg"

    applies_to = models.CharField(
        _("applies to"),
        max_length=20,
        unique=True,
        help_text=_("A device category (laptop, desktop, monitor, smartphone...) or 'ewaste_kg'."),
    )
    label = models.CharField(_("label"), max_length=120)
    kg_co2e = models.DecimalField(
        _("kg CO2e avoided"),
        max_digits=10,
        decimal_places=3,
        help_text=_("Per device reused, or per kg of e-waste recycled."),
    )
    source = models.CharField(_("source"), max_length=200)
    source_url = models.URLField(_("source link"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["applies_to"]
        verbose_name = _("emission factor")
        verbose_name_plural = _("emission factors")
        constraints = [
            models.CheckConstraint(condition=models.Q(kg_co2e__gte=0), name="emission_factor_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.kg_co2e} kg CO2e ({self.source})"


class YearlyReport(models.Model):
    """A donor organisation's sustainability report for one calendar year, frozen when issued.

    The figures are summed from the report's lines (``YearlyReportLine``, one per device) in the transaction that
    issues it, and ``sealed`` is set in that same transaction: from then on the database refuses any change to the
    report or its lines (migration ``0005_yearly_report``). A correction is a new report that ``supersedes`` this one.
    """

    number = models.CharField(_("report number"), max_length=40, unique=True, editable=False)
    donor = models.ForeignKey(
        "donations.Donor",
        on_delete=models.PROTECT,
        related_name="yearly_reports",
        verbose_name=_("donor"),
    )
    donor_name = models.CharField(_("donor, as named at issue"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    # The calendar year runs from 1 January 00:00 to 31 December 24:00 in this zone (YEARLY_REPORT_TIME_ZONE).
    time_zone = models.CharField(_("time zone of the calendar year"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    reason = models.TextField(_("reason for reissue"), blank=True)
    # The last chain-of-custody event the report read: a later event is in a later report, never half in this one.
    last_event_id = models.BigIntegerField(_("last event read"), default=0)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    factors = models.JSONField(_("emission factors used"), default=list, blank=True)
    sealed = models.BooleanField(_("sealed"), default=False, editable=False)

    class Meta:
        ordering = ["-year", "-issued_at", "-id"]
        verbose_name = _("yearly report")
        verbose_name_plural = _("yearly reports")
        constraints = [
            # One first report per donor and year; each later one supersedes exactly one (the one-to-one field), so a
            # donor's reports for a year form a single chain with one current end.
            models.UniqueConstraint(
                fields=["donor", "year"],
                condition=models.Q(supersedes__isnull=True),
                name="yearly_report_one_first_per_donor_and_year",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class YearlyReportLine(models.Model):
    """One device behind a yearly report, as it read when the report was issued: received in the year, and what
    became of it in the year (reused, recycled or missing). Every figure of the report is a sum of these lines."""

    class Outcome(models.TextChoices):
        NONE = "", pgettext_lazy("yearly report outcome", "none in the year")
        REUSED = "reused", pgettext_lazy("yearly report outcome", "reused")
        RECYCLED = "recycled", pgettext_lazy("yearly report outcome", "recycled")
        MISSING = "missing", pgettext_lazy("yearly report outcome", "missing")

    class WeightBasis(models.TextChoices):
        NOT_RECORDED = "", pgettext_lazy("weight basis", "not recorded")
        MEASURED = "measured", pgettext_lazy("weight basis", "measured at the bench")
        DECLARED = "declared", pgettext_lazy("weight basis", "declared by the donor or a hardware report")
        MODEL_DEFAULT = "model", pgettext_lazy("weight basis", "default for the model")
        CATEGORY_DEFAULT = "category", pgettext_lazy("weight basis", "default for the category")
        BATCH = "batch", pgettext_lazy("weight basis", "share of the batch the recycler weighed")

    report = models.ForeignKey(YearlyReport, on_delete=models.CASCADE, related_name="lines", verbose_name=_("report"))
    device = models.ForeignKey(
        "refurbishing.Device", on_delete=models.PROTECT, related_name="+", verbose_name=_("device"), db_index=False
    )
    donation_reference = models.CharField(_("donation"), max_length=40)
    hub_code = models.CharField(_("hub"), max_length=10)
    category = models.CharField(_("category"), max_length=20)
    weee_category = models.PositiveSmallIntegerField(_("WEEE category"), null=True, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=80)
    model = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    asset_tag = models.CharField(_("donor asset tag"), max_length=80, blank=True)
    received_at = models.DateTimeField(_("received in the year at"), null=True, blank=True)
    outcome = models.CharField(_("outcome in the year"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=9, decimal_places=2, null=True, blank=True)
    weight_basis = models.CharField(_("weight basis"), max_length=10, choices=WeightBasis.choices, blank=True)
    weight_source = models.CharField(_("weight source"), max_length=200, blank=True)
    country = models.CharField(_("country reached"), max_length=2, blank=True)
    project_kind = models.CharField(_("project kind"), max_length=20, blank=True)
    people = models.PositiveIntegerField(_("people reached"), default=0)
    batch_reference = models.CharField(_("recycling batch"), max_length=40, blank=True)
    vendor = models.CharField(_("downstream vendor"), max_length=120, blank=True)
    # The waste streams the device was handed over as, space-separated codes (refurbishing.WasteStream).
    streams = models.CharField(_("waste streams"), max_length=200, blank=True)
    # Exact: a weight (2 places) times a factor (3 places) needs 5; nothing is rounded before the figures are summed.
    co2e_kg = models.DecimalField(_("kg CO2e avoided"), max_digits=16, decimal_places=5, default=0)

    class Meta:
        ordering = ["report", "id"]
        verbose_name = _("yearly report line")
        verbose_name_plural = _("yearly report lines")
        constraints = [
            models.UniqueConstraint(fields=["report", "device"], name="yearly_report_line_once_per_device"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.device_id} {self.outcome or '-'}"


class YearlyReportXlsx(BuildProgress, models.Model):
    """A large yearly report's XLSX in one language, built once by a Celery task into the private storage."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("yearly report file status", "queued")
        RUNNING = "running", pgettext_lazy("yearly report file status", "being built")
        DONE = "done", pgettext_lazy("yearly report file status", "ready")
        FAILED = "failed", pgettext_lazy("yearly report file status", "failed")

    report = models.ForeignKey(
        YearlyReport, on_delete=models.CASCADE, related_name="xlsx_files", verbose_name=_("report")
    )
    language = models.CharField(_("language"), max_length=10)
    # The QR code's address, taken from the request that asked (the worker has no request to build it from).
    verify_url = models.CharField(_("verification address"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("devices"), default=0)
    done = models.PositiveIntegerField(_("devices written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("yearly report spreadsheet")
        verbose_name_plural = _("yearly report spreadsheets")
        constraints = [
            models.UniqueConstraint(fields=["report", "language"], name="yearly_report_xlsx_once_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.language} {self.status}"
