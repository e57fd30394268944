import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from hubs.querysets import RestrictedQuerySet


class MediaType(models.TextChoices):
    """What kind of storage a drive is, or a device has (from a hardware report, a spreadsheet or the bench)."""

    HDD = "hdd", _("HDD (spinning disk)")
    SSD = "ssd", _("SSD")
    NVME = "nvme", _("NVMe SSD")
    OTHER = "other", _("other storage")


class DeviceState(models.TextChoices):
    # A context of their own: in French a device is "expédié" where a shipment is "expédiée".
    PLEDGED = "pledged", pgettext_lazy("device state", "pledged")
    RECEIVED = "received", pgettext_lazy("device state", "received")
    SANITISED = "sanitised", pgettext_lazy("device state", "sanitised")
    INSPECTED = "inspected", pgettext_lazy("device state", "inspected")
    CONFIGURED = "configured", pgettext_lazy("device state", "configured")
    ALLOCATED = "allocated", pgettext_lazy("device state", "allocated")
    SHIPPED = "shipped", pgettext_lazy("device state", "shipped")
    DELIVERED = "delivered", pgettext_lazy("device state", "delivered")
    TO_RECYCLE = "to_recycle", pgettext_lazy("device state", "to recycle")
    RECYCLED = "recycled", pgettext_lazy("device state", "recycled")
    MISSING = "missing", pgettext_lazy("device state", "missing")


# The label code's alphabet: digits and capitals a person cannot misread (no 0/O, 1/I/L, 5/S, 8/B, 2/Z, U/V).
LABEL_CODE_ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
LABEL_CODE_LENGTH = 8


def label_codes_new(count: int) -> list[str]:
    """``count`` fresh random label codes, e.g. ``K7QX4MTA`` (23^8, about 78 billion codes).

    One read of the system's randomness for all of them (8 bytes per code, reduced to the code space; the bias
    is below one in 200 million): an import of 100,000 devices draws its codes in a fraction of a second.
    """
    base = len(LABEL_CODE_ALPHABET)
    space = base**LABEL_CODE_LENGTH
    raw = secrets.token_bytes(8 * count)
    codes = []
    for offset in range(0, 8 * count, 8):
        number = int.from_bytes(raw[offset : offset + 8], "big") % space
        characters = []
        for _position in range(LABEL_CODE_LENGTH):
            number, digit = divmod(number, base)
            characters.append(LABEL_CODE_ALPHABET[digit])
        codes.append("".join(characters))
    return codes


def label_code_new() -> str:
    """A fresh random label code (see ``label_codes_new``)."""
    return label_codes_new(1)[0]


class ProtectedStateError(AttributeError):
    """Raised on any attempt to write Device.state outside the lifecycle service."""


class _ProtectedStateDescriptor(DeferredAttribute):
    """Loads the state like any field, and refuses every later assignment of a different value.

    The lifecycle service changes the state with a conditional UPDATE and then refreshes the row, so
    no code path can move a device without the guard checks and the chain-of-custody event.
    """

    def __set__(self, instance, value):
        current = instance.__dict__.get(self.field.attname, value)
        if current != value and not instance.__dict__.get("_refreshing_state"):
            raise ProtectedStateError("Device.state can only change through refurbishing.services.device_transition().")
        instance.__dict__[self.field.attname] = value


class DeviceStateField(models.CharField):
    descriptor_class = _ProtectedStateDescriptor

    def deconstruct(self):
        # Migrations name the field where the app's models are imported from, not the module inside the
        # package that defines it, so moving it between modules needs no migration.
        name, _path, args, kwargs = super().deconstruct()
        return name, "refurbishing.models.DeviceStateField", args, kwargs


class DeviceQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        if "state" in kwargs:
            raise ProtectedStateError("Device.state can only change through refurbishing.services.device_transition().")
        return super().update(**kwargs)

    def _update_state(self, **kwargs):
        """The lifecycle service's own write path; nothing else calls it."""
        return super().update(**kwargs)


class WeeeCategory(models.IntegerChoices):
    """The six categories of EU WEEE Directive 2012/19/EU, Annex III (in scope from 15 August 2018)."""

    TEMPERATURE_EXCHANGE = 1, _("1. Temperature exchange equipment")
    SCREENS = 2, _("2. Screens, monitors and equipment with screens over 100 cm²")
    LAMPS = 3, _("3. Lamps")
    LARGE = 4, _("4. Large equipment (an external dimension over 50 cm)")
    SMALL = 5, _("5. Small equipment (no external dimension over 50 cm)")
    SMALL_IT = 6, _("6. Small IT and telecommunication equipment (no external dimension over 50 cm)")


class WeightBasis(models.TextChoices):
    """Where a device's weight comes from."""

    MEASURED = "measured", _("measured at the bench")
    DECLARED = "declared", _("declared by the donor or a hardware report")
    MODEL_DEFAULT = "model", _("default for the model")
    CATEGORY_DEFAULT = "category", _("default for the category")


class Device(models.Model):
    """One donated piece of equipment, followed from pledge to delivery or recycling."""

    State = DeviceState

    class Category(models.TextChoices):
        LAPTOP = "laptop", _("laptop")
        DESKTOP = "desktop", _("desktop")
        TABLET = "tablet", _("tablet")
        SMARTPHONE = "smartphone", _("smartphone")
        MONITOR = "monitor", _("monitor")
        SERVER = "server", _("server")
        NETWORKING = "networking", _("networking")
        PRINTER = "printer", _("printer")
        OTHER = "other", _("other")

    class Grade(models.TextChoices):
        A = "A", _("A: as new")
        B = "B", _("B: light wear")
        C = "C", _("C: visible wear, fully working")

    donation = models.ForeignKey(
        "donations.Donation",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("donation"),
    )
    hub = models.ForeignKey(
        "hubs.Hub",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("current hub"),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    manufacturer = models.CharField(_("manufacturer"), max_length=80)
    model = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    asset_tag = models.CharField(_("donor asset tag"), max_length=80, blank=True)
    # Printed on the device's label as text and as a QR code that opens the device on the scan station.
    label_code = models.CharField(
        _("label code"),
        max_length=LABEL_CODE_LENGTH,
        unique=True,
        default=label_code_new,
        editable=False,
    )
    has_storage_media = models.BooleanField(
        _("has storage media"),
        default=True,
        help_text=_("Disk, SSD, eMMC or memory card that may hold the donor's data."),
    )
    cpu = models.CharField(_("CPU"), max_length=120, blank=True)
    ram_gb = models.PositiveSmallIntegerField(_("RAM (GB)"), null=True, blank=True)
    storage_gb = models.PositiveIntegerField(_("storage (GB)"), null=True, blank=True)
    storage_kind = models.CharField(
        _("storage kind"),
        max_length=8,
        choices=MediaType.choices,
        blank=True,
        help_text=_("As the donor's list, the hardware report or the bench says: an SSD, an HDD..."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1980), MaxValueValidator(2100)],
    )
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Issue 19: what the donor's yearly report weighs. The weight above is measured at the bench when known,
    # otherwise a default from refurbishing/data/device_weights.csv; the basis and source say which.
    weee_category = models.PositiveSmallIntegerField(
        _("WEEE category"),
        choices=WeeeCategory.choices,
        null=True,
        blank=True,
        help_text=_("The category of Directive 2012/19/EU, Annex III."),
    )
    weight_basis = models.CharField(
        _("weight basis"),
        max_length=20,
        choices=WeightBasis.choices,
        blank=True,
    )
    weight_source = models.CharField(
        _("weight source"),
        max_length=200,
        blank=True,
        help_text=_("Where a default weight comes from: the table row and the sheet it cites."),
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    state = DeviceStateField(
        _("state"),
        max_length=20,
        choices=DeviceState.choices,
        default=DeviceState.PLEDGED,
        editable=False,
    )
    version = models.PositiveIntegerField(
        _("version"),
        default=0,
        editable=False,
        help_text=_("Grows by one with every transition; a stale version means someone else moved it first."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    hub_path = "hub"
    objects = DeviceQuerySet.as_manager()

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [
            models.Index(fields=["hub", "state"], name="device_hub_state_idx"),
            models.Index(fields=["state"], name="device_state_idx"),
            models.Index(fields=["serial_number"], name="device_serial_idx"),
            models.Index(fields=["asset_tag"], name="device_asset_tag_idx"),
            # The admin list's other filters, each newest first as the list shows them.
            models.Index(fields=["category", "-id"], name="device_category_idx"),
            models.Index(fields=["grade", "-id"], name="device_grade_idx"),
            # The hub dashboard's "stuck": a hub's devices in one state, oldest change first.
            models.Index(fields=["hub", "state", "updated_at"], name="device_hub_state_updated_idx"),
            # The scan station's offline cache: a hub's devices changed since a cursor (last change, id).
            models.Index(fields=["hub", "updated_at", "id"], name="device_hub_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "serial_number"],
                condition=~models.Q(serial_number=""),
                name="device_serial_unique_per_manufacturer",
                violation_error_message=_("A device with this manufacturer and serial number is already registered."),
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=DeviceState.values),
                name="device_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(grade__in=["", "A", "B", "C"]),
                name="device_grade_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(weee_category__isnull=True) | models.Q(weee_category__gte=1, weee_category__lte=6),
                name="device_weee_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_basis__in=["", *WeightBasis.values]),
                name="device_weight_basis_valid",
            ),
        ]

    def __str__(self) -> str:
        label = self.serial_number or self.asset_tag or f"#{self.pk}"
        # "Laptop Dell Latitude 5490 5CG81234": a title, so its category starts with a capital in every language.
        return f"{capfirst(self.get_category_display())} {self.manufacturer} {self.model} {label}".replace("  ", " ")

    @classmethod
    def partner_scope(cls, partner_ids: set[int]) -> Q:
        """A partner's users reach the devices of their open work orders (``hubs.selectors.restrict_to_user_hubs``);
        the lifecycle's partner guard says which steps they may take on them, and until when."""
        from .work_orders import WorkOrder

        assigned = WorkOrder.devices.through.objects.filter(
            workorder__partner_id__in=partner_ids, workorder__status=WorkOrder.Status.OPEN
        ).values("device_id")
        return Q(pk__in=assigned)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # A refresh is a read, not a write: the fresh state loads with the rest of the row, in the same query
        # (dropping the cached value first would leave the state deferred, and a second query to read it).
        self.__dict__["_refreshing_state"] = True
        try:
            super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        finally:
            del self.__dict__["_refreshing_state"]


class DeviceEvent(models.Model):
    """One link in a device's chain of custody: a state change, who made it, where and when. Append-only."""

    # No index of its own: device_event_device_idx (device, id) serves lookups by device and keeps history in order.
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("device"),
        db_index=False,
    )
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(_("from state"), max_length=20, choices=DeviceState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, choices=DeviceState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    hub = models.ForeignKey("hubs.Hub", on_delete=models.PROTECT, related_name="+", verbose_name=_("hub"))
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    # When the server wrote it: later than ``occurred_at`` for a move a scan station queued offline and sent later.
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Bookkeeping for the impact read model, not part of the custody record: set once when the event
    # has been folded into the public counters (in the same transaction as the fold).
    impact_counted = models.BooleanField(_("counted in impact"), default=False)

    # Whoever may see the device may see its history (at its current hub, so a transfer takes it along).
    hub_path = "device__hub"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("device event")
        verbose_name_plural = _("device events")
        indexes = [
            models.Index(fields=["device", "id"], name="device_event_device_idx"),
            # A device's timeline in the order it happened, and its last move's moment (an offline move is never
            # dated before it): without it PostgreSQL walks the occurred_at index of every device's events.
            models.Index(fields=["device", "occurred_at"], name="device_event_occurred_idx"),
            # The admin event list's filters, newest first.
            models.Index(fields=["action", "-id"], name="device_event_action_idx"),
            models.Index(fields=["to_state", "-id"], name="device_event_to_state_idx"),
            # Stays as small as the backlog, however long the history grows.
            models.Index(
                fields=["id"],
                condition=models.Q(impact_counted=False),
                name="device_event_uncounted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state} ({self.action})"


class SanitisationRecord(models.Model):
    """Proof that a device's storage media was sanitised, after NIST SP 800-88."""

    class Method(models.TextChoices):
        CLEAR = "clear", _("clear (overwrite with software)")
        PURGE = "purge", _("purge (secure erase, crypto erase, degauss)")
        DESTROY = "destroy", _("destroy (shred, disintegrate, pulverise)")

    class Verification(models.TextChoices):
        FULL = "full", _("full verification")
        SAMPLE = "sample", _("representative sampling")

    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="sanitisation_records",
        verbose_name=_("device"),
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    technique = models.CharField(
        _("technique"),
        max_length=120,
        help_text=_("e.g. single-pass overwrite, ATA Secure Erase, NVMe Format with crypto erase, shredding."),
    )
    tool = models.CharField(_("tool"), max_length=120, help_text=_("e.g. Blancco Drive Eraser, nwipe, shredder."))
    tool_version = models.CharField(_("tool version"), max_length=40, blank=True)
    verification = models.CharField(_("verification"), max_length=10, choices=Verification.choices)
    verified = models.BooleanField(_("verification passed"), default=False)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operator"),
    )
    completed_at = models.DateTimeField(_("completed at"))

    class Meta:
        ordering = ["-completed_at"]
        verbose_name = _("sanitisation record")
        verbose_name_plural = _("sanitisation records")
        constraints = [
            models.CheckConstraint(condition=models.Q(verified=True), name="sanitisation_verified"),
        ]

    def __str__(self) -> str:
        return gettext("%(method)s with %(tool)s at %(time)s") % {
            "method": self.get_method_display(),
            "tool": self.tool,
            "time": f"{self.completed_at:%Y-%m-%d %H:%M}",
        }

    def validate_constraints(self, exclude=None):
        # Its one constraint is verified=True: a record that is verified holds it, known without asking the
        # database (Django validates a check constraint with a query, a round trip on every wipe recorded).
        exclude = set(exclude or ())
        if self.verified is True:
            exclude.add("verified")
        super().validate_constraints(exclude=exclude)


class InspectionRecord(models.Model):
    """A technician's functional test of a device: passed with a grade, or failed with the reason."""

    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="inspection_records",
        verbose_name=_("device"),
    )
    passed = models.BooleanField(_("passed"))
    grade = models.CharField(_("grade"), max_length=1, choices=Device.Grade.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector"),
    )
    inspected_at = models.DateTimeField(_("inspected at"))

    class Meta:
        ordering = ["-inspected_at"]
        verbose_name = _("inspection record")
        verbose_name_plural = _("inspection records")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(passed=True) & models.Q(grade__in=["A", "B", "C"]))
                | (models.Q(passed=False) & models.Q(grade="")),
                name="inspection_grade_iff_passed",
                violation_error_message=_("A passed inspection needs a grade; a failed one has none."),
            ),
        ]

    def __str__(self) -> str:
        time = f"{self.inspected_at:%Y-%m-%d %H:%M}"
        if self.passed:
            return gettext("pass %(grade)s at %(time)s") % {"grade": self.grade, "time": time}
        return gettext("fail at %(time)s") % {"time": time}


class ConfigurationRecord(models.Model):
    """What a technician installed on a device before it is allocated: system, layout, language and licence."""

    class Licence(models.TextChoices):
        MICROSOFT_REFURBISHER = "microsoft_refurbisher", _("Microsoft Registered Refurbisher licence")
        OEM = "oem", _("original manufacturer's licence kept")
        FREE = "free", _("none needed (free software)")
        NONE = "none", _("none")

    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="configuration_records",
        verbose_name=_("device"),
    )
    operating_system = models.CharField(
        _("operating system or image"),
        max_length=120,
        help_text=_("e.g. Windows 11 Pro, Ubuntu 24.04, the hub's school image."),
    )
    os_version = models.CharField(_("version"), max_length=40, blank=True)
    keyboard_layout = models.CharField(
        _("keyboard layout"), max_length=40, blank=True, help_text=_("e.g. US, UK, AZERTY (BE), QWERTZ.")
    )
    language = models.CharField(_("language"), max_length=40, blank=True, help_text=_("e.g. English, Kiswahili."))
    licence = models.CharField(_("licence"), max_length=30, choices=Licence.choices, default=Licence.NONE)
    notes = models.TextField(_("notes"), blank=True)
    configured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("configured by"),
    )
    configured_at = models.DateTimeField(_("configured at"))

    class Meta:
        ordering = ["-configured_at"]
        verbose_name = _("configuration record")
        verbose_name_plural = _("configuration records")
        constraints = [
            models.CheckConstraint(condition=~models.Q(operating_system=""), name="configuration_has_system"),
        ]

    def __str__(self) -> str:
        return f"{self.operating_system} {self.os_version}".strip()
