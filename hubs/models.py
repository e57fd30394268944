from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .querysets import RestrictedQuerySet

# The lifecycle's actions by name, in lifecycle order, as a hub kind lists the ones it performs. The lifecycle
# itself lives in ``refurbishing.lifecycle`` (its ``ACTIONS``), above this app, so the names are kept here and a
# test checks both lists agree. The labels are the lifecycle's own verbs (same text and context, so the same
# translations).
LIFECYCLE_STEPS = {
    "receive": pgettext_lazy("device action, as a verb", "receive"),
    "mark_missing": pgettext_lazy("device action, as a verb", "mark missing"),
    "sanitise": pgettext_lazy("device action, as a verb", "sanitise"),
    "inspect": pgettext_lazy("device action, as a verb", "inspect"),
    "configure": pgettext_lazy("device action, as a verb", "configure"),
    "allocate": pgettext_lazy("device action, as a verb", "allocate"),
    "ship": pgettext_lazy("device action, as a verb", "ship"),
    "deliver": pgettext_lazy("device action, as a verb", "deliver"),
    "recycle": pgettext_lazy("device action, as a verb", "recycle"),
}
# What a kind must perform to take donations from companies (receive them, and wipe their data) or to send
# devices to projects (allocate, ship and have the delivery confirmed).
STEPS_TO_TAKE_COMPANY_DONATIONS = ("receive", "sanitise")
STEPS_TO_SEND_TO_PROJECTS = ("allocate", "ship", "deliver")

# The four kinds of Close the Gap's network, as migration 0005 creates them. Their name and description are
# stored in English and translated where they are shown (``HubKind.label``); these marks put them in the
# catalogues. A kind the platform admin adds, or renames, shows as typed.
BUILT_IN_KIND_TEXTS = (
    gettext_noop("Refurbishing hub"),
    gettext_noop("Refurbishes donated devices and sends them to projects."),
    gettext_noop("Circular-economy hub"),
    gettext_noop("Refurbishes and repairs devices for projects, and has what cannot be reused recycled."),
    gettext_noop("ITAD social enterprise"),
    gettext_noop(
        "Takes in companies' retired IT equipment: certified data wiping, grading and refurbishing, and recycling "
        "of the rest."
    ),
    gettext_noop("Partner-run site"),
    gettext_noop("Run with a partner: receives devices refurbished at our hubs and delivers them to projects."),
)


def validate_lifecycle_steps(value: object) -> None:
    """A kind's steps: a list of lifecycle action names, each once."""
    if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
        raise ValidationError(_('List the steps as lifecycle action names, e.g. ["receive", "sanitise"].'))
    unknown = [step for step in value if step not in LIFECYCLE_STEPS]
    if unknown:
        raise ValidationError(
            _("%(steps)s: not a lifecycle step. The steps are: %(known)s.")
            % {"steps": ", ".join(unknown), "known": ", ".join(LIFECYCLE_STEPS)}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("List each step once."))


class HubKind(models.Model):
    """What kind of place a hub is, and what that means: the steps it performs and whom it works with."""

    REFURBISHING_HUB = "refurbishing_hub"
    CIRCULAR_ECONOMY_HUB = "circular_economy_hub"
    ITAD_SOCIAL_ENTERPRISE = "itad_social_enterprise"
    PARTNER_SITE = "partner_site"

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Lower-case letters, digits and underscores, e.g. refurbishing_hub; the API shows it."),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(
        _("description"),
        max_length=300,
        help_text=_("One sentence saying what such a hub does; the public hub pages show it."),
    )
    steps = models.JSONField(
        _("steps performed"),
        default=list,
        blank=True,
        validators=[validate_lifecycle_steps],
        help_text=_("The lifecycle steps hubs of this kind perform."),
    )
    takes_company_donations = models.BooleanField(
        _("takes donations from companies"),
        default=True,
        help_text=_("Companies may pledge devices to hubs of this kind."),
    )
    sends_to_projects = models.BooleanField(
        _("sends devices to projects"),
        default=True,
        help_text=_("Projects may apply to hubs of this kind, and their devices are allocated to projects."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("hub kind")
        verbose_name_plural = _("hub kinds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[a-z0-9_]+$"),
                name="hub_kind_code_format",
                violation_error_message=_("A hub kind's code has lower-case letters, digits and underscores only."),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The kind's name in the reader's language."""
        return gettext(self.name) if self.name else ""

    @property
    def description_text(self) -> str:
        """What such a hub does, in the reader's language."""
        return gettext(self.description) if self.description else ""

    def performs(self, action: str) -> bool:
        """Whether hubs of this kind perform the lifecycle action ``action`` (e.g. "sanitise")."""
        return action in (self.steps or [])

    def clean(self) -> None:
        steps = self.steps if isinstance(self.steps, list) else []
        errors = []
        if self.takes_company_donations and not all(step in steps for step in STEPS_TO_TAKE_COMPANY_DONATIONS):
            errors.append(_("A kind that takes donations from companies receives and sanitises them: add those steps."))
        if self.sends_to_projects and not all(step in steps for step in STEPS_TO_SEND_TO_PROJECTS):
            errors.append(
                _("A kind that sends devices to projects allocates, ships and delivers them: add those steps.")
            )
        if errors:
            raise ValidationError({"steps": errors})


def hub_kind_default() -> int | None:
    """The kind a hub opened without one gets: a refurbishing hub (None if migration 0005 has not run)."""
    return HubKind.objects.filter(code=HubKind.REFURBISHING_HUB).values_list("pk", flat=True).first()


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
    kind = models.ForeignKey(
        HubKind,
        on_delete=models.PROTECT,
        default=hub_kind_default,
        related_name="hubs",
        verbose_name=_("kind"),
        help_text=_("What the hub does: which steps it performs, whether companies donate to it and projects apply."),
    )
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


# The lifecycle steps a hub may hand to a refurbishment partner: the bench work on devices in the hub's care. Taking
# devices in, allocating, shipping and handing over for recycling stay the hub's own (they move custody).
PARTNER_STEPS = ("sanitise", "inspect", "configure")


class Partner(models.Model):
    """A refurbishment partner: an organisation with its own accounts, doing work a hub assigns to it."""

    name = models.CharField(_("name"), max_length=160, unique=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="partner_organisations",
        verbose_name=_("users"),
        help_text=_("The partner's own accounts: they see and move only the devices of its open work orders."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("refurbishment partner")
        verbose_name_plural = _("refurbishment partners")

    def __str__(self) -> str:
        return self.name


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
