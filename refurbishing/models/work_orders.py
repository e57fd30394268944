"""Work orders: a hub assigns devices and lifecycle steps to a refurbishment partner, to be done by a date."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hubs.models import PARTNER_STEPS
from hubs.querysets import RestrictedQuerySet


def validate_partner_steps(value: object) -> None:
    """A work order's steps: one or more of the steps a hub may hand to a partner, each once."""
    if not isinstance(value, list) or not value or not all(isinstance(step, str) for step in value):
        raise ValidationError(_("Choose at least one step for the partner."))
    unknown = [step for step in value if step not in PARTNER_STEPS]
    if unknown:
        raise ValidationError(
            _("%(steps)s: not a step a partner may be given. The steps are: %(known)s.")
            % {"steps": ", ".join(unknown), "known": ", ".join(PARTNER_STEPS)}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("List each step once."))


class WorkOrder(models.Model):
    """Work a hub gives a refurbishment partner: which devices, which steps, by when."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("hub"),
        help_text=_("The hub the partner works for; it keeps custody of the devices."),
    )
    partner = models.ForeignKey(
        "hubs.Partner",
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("partner"),
    )
    steps = models.JSONField(
        _("steps"),
        default=list,
        validators=[validate_partner_steps],
        help_text=_("The lifecycle steps the partner may take on these devices."),
    )
    devices = models.ManyToManyField(
        "refurbishing.Device",
        related_name="work_orders",
        verbose_name=_("devices"),
        help_text=_("Devices at the hub, in a state where one of the order's steps comes next."),
    )
    due_on = models.DateField(
        _("due on"),
        help_text=_("The last day the partner may work on the order; extend it to let them go on."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    hub_path = "hub"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [models.Index(fields=["partner", "status"], name="work_order_partner_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="work_order_closed_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return _("Work order %(number)s") % {"number": self.reference}

    @property
    def reference(self) -> str:
        return f"WO-{self.pk}" if self.pk else "WO-?"

    @classmethod
    def partner_scope(cls, partner_ids: set[int]) -> Q:
        """A partner's users see their own work orders, open or closed (``hubs.selectors.restrict_to_user_hubs``)."""
        return Q(partner_id__in=partner_ids)
