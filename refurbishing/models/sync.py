"""Moves a scan station queued while offline and sent later: what was asked, and what became of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubs.querysets import RestrictedQuerySet

# The moves a hub's managers still have to look at: refused or in conflict, and not marked reviewed yet.
TO_REVIEW = models.Q(reviewed_at__isnull=True) & ~models.Q(outcome="applied")


class SyncedMove(models.Model):
    """One queued move as it reached the server (by its device-made UUID) and its outcome; append-only."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("applied")
        REFUSED = "refused", _("refused")
        CONFLICT = "conflict", _("conflict")

    uuid = models.UUIDField(_("move id (made on the device)"), unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("made by"),
    )
    code = models.CharField(_("code scanned"), max_length=80)
    # Null when the code names no device the maker may reach: the answer then reveals nothing about it.
    device = models.ForeignKey(
        "refurbishing.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="synced_moves",
        verbose_name=_("device"),
    )
    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hub"),
    )
    action = models.CharField(_("action"), max_length=20)
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    cached_version = models.PositiveIntegerField(_("version the station had"))
    occurred_at = models.DateTimeField(_("happened at (the station's clock)"))
    recorded_at = models.DateTimeField(_("recorded at (the server's clock)"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    message = models.TextField(_("why"), blank=True)
    event = models.OneToOneField(
        "refurbishing.DeviceEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="synced_move",
        verbose_name=_("event written"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    hub_path = "hub"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("offline move")
        verbose_name_plural = _("offline moves")
        indexes = [
            # The managers' review list: a hub's refusals and conflicts not yet reviewed, newest first.
            models.Index(
                fields=["hub", "-id"],
                condition=TO_REVIEW,
                name="synced_move_to_review_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.code} ({self.outcome})"
