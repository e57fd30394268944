from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField


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
