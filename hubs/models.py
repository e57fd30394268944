from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import RestrictedQuerySet


class Hub(models.Model):
    """A regional refurbishing hub where donated devices are received, wiped, tested and shipped from."""

    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        help_text=_("Country and city, e.g. BE-BRU or KE-MBA."),
    )
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. KE."))
    city = models.CharField(_("city"), max_length=120)
    active = models.BooleanField(_("active"), default=True)

    hub_path = "pk"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2}-[A-Z]{3}$"),
                name="hub_code_format",
                violation_error_message=_("A hub code is a country and a city code, e.g. KE-NBO."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class HubMembership(models.Model):
    """A user working at a hub, with a role that says what they may do there."""

    class Role(models.TextChoices):
        TECHNICIAN = "technician", _("technician")
        MANAGER = "manager", _("manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hub_memberships",
        verbose_name=_("user"),
    )
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("hub"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.TECHNICIAN)

    hub_path = "hub"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hub membership")
        verbose_name_plural = _("hub memberships")
        constraints = [models.UniqueConstraint(fields=["user", "hub"], name="hub_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.hub.code} ({self.get_role_display()})"


class UserProfile(models.Model):
    """A person's own settings, kept with their account: the language they read the site and the admin in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        help_text=_("Chosen with the language switcher; used from the next login on, on any device."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="user_profile_language_offered",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)


class EmailVerification(models.Model):
    """Proof that a person opened a link sent to their e-mail address: the address, and when."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="email_verification",
        verbose_name=_("user"),
    )
    email = models.EmailField(_("e-mail address"))
    verified_at = models.DateTimeField(_("verified at"))

    class Meta:
        verbose_name = _("e-mail verification")
        verbose_name_plural = _("e-mail verifications")

    def __str__(self) -> str:
        return self.email


class Invitation(models.Model):
    """An invitation, sent by e-mail, to join something (a donor organisation, a project): used once."""

    kind = models.CharField(_("kind"), max_length=40, help_text=_("What the person is invited to join."))
    target_id = models.PositiveBigIntegerField(_("target"))
    email = models.EmailField(_("e-mail address"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["kind", "target_id"], name="invitation_target")]

    def __str__(self) -> str:
        return f"{self.email} ({self.kind} {self.target_id})"


class NotificationSent(models.Model):
    """A message that has gone out, by its key: claimed before sending, so a task run twice sends once."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification sent")
        verbose_name_plural = _("notifications sent")

    def __str__(self) -> str:
        return self.key
