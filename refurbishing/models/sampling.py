"""Wipe verification by sampling: for each lot of wipes (a donation's wiped media), a random sample re-verified by
someone other than the person who wiped it.

The pick is a function of a stored seed and the lot's sorted media keys (``refurbishing.hardware.sampling``), so
anyone can recompute it; nobody chooses it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from hubs.querysets import RestrictedQuerySet


class WipeSample(models.Model):
    """One round of re-verification of a donation's wipes: the lot it was drawn from, its seed and its outcome."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("wipe sample status", "waiting for re-verification")
        PASSED = "passed", pgettext_lazy("wipe sample status", "passed")
        FAILED = "failed", pgettext_lazy("wipe sample status", "failed: lot sent back to be wiped again")

    donation = models.ForeignKey(
        "donations.Donation",
        on_delete=models.PROTECT,
        related_name="wipe_samples",
        verbose_name=_("donation (the lot)"),
    )
    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    # Every wiped medium of the lot when the sample was picked, sorted: "drive:<id>" or "device:<id>" (a device
    # with no known drive, wiped as a whole). The pick is recomputed from these and the seed.
    population = models.JSONField(_("wiped media of the lot"), default=list, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    picked_at = models.DateTimeField(_("picked at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # On a failed sample: how many devices were sent back to be wiped again, and those that had already left.
    requeued_devices = models.PositiveIntegerField(_("devices sent back to be wiped"), default=0)
    devices_already_gone = models.JSONField(_("devices that had already left the hub"), default=list, blank=True)

    hub_path = "hub"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-picked_at", "-id"]
        verbose_name = _("wipe verification sample")
        verbose_name_plural = _("wipe verification samples")
        constraints = [
            models.UniqueConstraint(fields=["donation", "round"], name="wipe_sample_round_unique"),
            models.UniqueConstraint(
                fields=["donation"],
                condition=models.Q(status="open"),
                name="wipe_sample_one_open_per_donation",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "passed", "failed"]),
                name="wipe_sample_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Wipe sample %(round)s of donation %(donation)s") % {
            "round": self.round,
            "donation": self.donation_id,
        }


class WipeSampleItem(models.Model):
    """One picked medium of a sample: the wipe it re-verifies, who did that wipe, and the re-verification."""

    class Result(models.TextChoices):
        PENDING = "pending", pgettext_lazy("wipe check result", "to re-verify")
        PASSED = "passed", pgettext_lazy("wipe check result", "passed")
        FAILED = "failed", pgettext_lazy("wipe check result", "failed")

    sample = models.ForeignKey(WipeSample, on_delete=models.PROTECT, related_name="items", verbose_name=_("sample"))
    key = models.CharField(_("medium"), max_length=40)
    device = models.ForeignKey(
        "refurbishing.Device", on_delete=models.PROTECT, related_name="+", verbose_name=_("device")
    )
    drive = models.ForeignKey(
        "refurbishing.Drive",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drive"),
    )
    # As the wipe record said when the sample was picked (the certificate quotes these).
    media_serial = models.CharField(_("drive serial number"), max_length=80, blank=True)
    wiped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("wiped by"),
    )
    wiped_at = models.DateTimeField(_("wiped at"))
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.PENDING)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("re-verified by"),
    )
    verified_at = models.DateTimeField(_("re-verified at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["sample", "key"]
        verbose_name = _("sampled wipe")
        verbose_name_plural = _("sampled wipes")
        constraints = [
            models.UniqueConstraint(fields=["sample", "key"], name="wipe_sample_item_unique"),
            # The database holds the rule too: nobody re-verifies their own wipe.
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | ~models.Q(verified_by=models.F("wiped_by")),
                name="wipe_sample_item_not_by_wiper",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.key}"
