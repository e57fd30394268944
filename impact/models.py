from django.db import models
from django.utils.translation import gettext_lazy as _


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
