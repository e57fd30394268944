"""A bulk lifecycle move of many devices, run in the background in chunks, with its progress and its refusals."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BulkJob(models.Model):
    """One lifecycle action applied to a list of devices by a Celery task, chunk by chunk; each device moves alone."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("bulk job status", "queued")
        RUNNING = "running", pgettext_lazy("bulk job status", "running")
        DONE = "done", pgettext_lazy("bulk job status", "finished")
        FAILED = "failed", pgettext_lazy("bulk job status", "stopped")

    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    # The action's fields as the person gave them (JSON values); re-validated once per chunk by the worker.
    fields = models.JSONField(_("fields"), default=dict, blank=True)
    device_ids = models.JSONField(_("devices"), default=list)
    total = models.PositiveIntegerField(_("total"), default=0)
    # How far the worker got in device_ids; a chunk advances it in the same transaction as its moves.
    done = models.PositiveIntegerField(_("done"), default=0)
    moved = models.PositiveIntegerField(_("moved"), default=0)
    skipped = models.PositiveIntegerField(_("already there"), default=0)
    # [{"id": 12, "device": "Laptop Dell ... SN1", "reason": "..."}]: left as they were, with the reason.
    refused = models.JSONField(_("refused"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk action")
        verbose_name_plural = _("bulk actions")
        indexes = [models.Index(fields=["actor", "-id"], name="bulk_job_actor_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="bulk_job_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"{self.action} × {self.total} (#{self.pk})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)


class HubWeeklyThroughput(models.Model):
    """How many devices made one lifecycle move at one hub in one week: the hub dashboard's read model.

    Written in the same transaction as each move (``refurbishing.services.device_transition``), so it never
    drifts from the events and the dashboard never scans them.
    """

    hub = models.ForeignKey("hubs.Hub", on_delete=models.CASCADE, related_name="+", verbose_name=_("hub"))
    week = models.DateField(_("week (Monday)"))
    action = models.CharField(_("action"), max_length=20)
    count = models.PositiveIntegerField(_("devices"), default=0)

    class Meta:
        verbose_name = _("weekly throughput")
        verbose_name_plural = _("weekly throughput")
        constraints = [
            models.UniqueConstraint(fields=["hub", "week", "action"], name="hub_weekly_throughput_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.hub_id} {self.week} {self.action}: {self.count}"
