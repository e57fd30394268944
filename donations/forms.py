"""Forms for the donor pages: sign-up (organisation and first user) and the pledge with its device rows."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubs.forms import OrganisationSignUpForm
from hubs.models import Hub
from hubs.selectors import hub_list_taking_company_donations
from refurbishing.models import Device
from refurbishing.weights import WEIGHT_MAX

from .imports.spreadsheet import IMPORT_FIELDS, NO_STORAGE_CATEGORIES, UNITS, parse_number
from .models import Donor
from .services import normalise_registration_number

# A pledge typed by hand starts short and grows by ADD_ROWS, up to MAX_ROWS devices in one pledge.
DEFAULT_ROWS = 5
ADD_ROWS = 5
MAX_ROWS = 200
# Identical items without serials: one row may stand for up to this many devices.
MAX_QUANTITY = 500


class DonorSignUpForm(OrganisationSignUpForm):
    """The donor organisation, its contact person and its first user in one form; the user signs in by e-mail."""

    legal_name = forms.CharField(
        label=_("Organisation's legal name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    registration_number = forms.CharField(
        label=_("Registration or VAT number"),
        max_length=40,
        help_text=_("e.g. BE0123456789. Each organisation signs up once."),
    )
    address = forms.CharField(
        label=_("Address"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )

    contact_name_help = _("Who the hub calls about the pickup.")
    contact_phone_help = _("With the country code, e.g. +32 2 123 45 67.")
    email_help = _("You sign in with it. We send a link to confirm it before your first pledge.")

    field_order = [
        "legal_name",
        "registration_number",
        "country",
        "address",
        "contact_name",
        "contact_phone",
        "email",
        "password1",
        "password2",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The organisation comes first on the page, so the cursor starts there.
        self.fields["legal_name"].widget.attrs["autofocus"] = True

    def clean_registration_number(self) -> str:
        # The number the service will store, so the uniqueness check sees what will be saved.
        number = normalise_registration_number(self.cleaned_data["registration_number"])
        if len(number) < 4:
            raise forms.ValidationError(_("Enter the full registration or VAT number."))
        if Donor.objects.filter(registration_number=number).exists():
            raise forms.ValidationError(
                _("An organisation with this registration number has already signed up. Ask a colleague to add you."),
                code="duplicate",
            )
        return number


class PledgeForm(forms.Form):
    """Where and when to collect; the devices come in the row formset beside it."""

    donor = forms.ModelChoiceField(
        label=_("On behalf of"),
        queryset=Donor.objects.none(),
        empty_label=None,
    )
    hub = forms.ModelChoiceField(
        label=_("Receiving hub"),
        # Only the hubs whose kind takes donations from companies (a partner-run site gets its devices from a hub).
        queryset=Hub.objects.none(),
        help_text=_("The hub that collects, wipes and refurbishes the devices."),
    )
    pickup_address = forms.CharField(
        label=_("Pickup address"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    pickup_date = forms.DateField(
        label=_("Preferred pickup date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        label=_("Notes for the hub"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Opening hours, loading dock, contact person..."),
    )

    def __init__(
        self, *args: Any, donors: QuerySet[Donor], offered_hub: tuple[Hub | None, str] = (None, ""), **kwargs: Any
    ) -> None:
        hub, why = offered_hub
        if hub is not None:
            kwargs.setdefault("initial", {}).setdefault("hub", hub)
        super().__init__(*args, **kwargs)
        # Most users belong to one organisation: no question to ask then (the view uses that one).
        if len(donors) < 2:
            del self.fields["donor"]
        else:
            self.fields["donor"].queryset = donors
        field = self.fields["hub"]
        field.queryset = hub_list_taking_company_donations()
        field.label_from_instance = lambda hub: f"{hub.name} ({hub.code})"
        # Never a hub picked for the person without saying so: the offered one is named, with the reason.
        field.empty_label = _("Choose the receiving hub")
        if why == "usual":
            field.help_text = _(
                "%(hub)s, where your last donation went. The hub collects, wipes and refurbishes the devices."
            ) % {"hub": f"{hub.name} ({hub.code})"}
        elif why == "country":
            field.help_text = _(
                "%(hub)s, the hub nearest to your country. The hub collects, wipes and refurbishes the devices."
            ) % {"hub": f"{hub.name} ({hub.code})"}

    def clean_pickup_date(self):
        return _pickup_date_not_past(self.cleaned_data.get("pickup_date"))


def _pickup_date_not_past(value):
    if value and value < timezone.localdate():
        raise forms.ValidationError(
            _("The pickup date cannot be in the past: choose today or a later date."), code="past_date"
        )
    return value


class PledgeEditForm(forms.Form):
    """What a donor may change in a pledge until its first device arrives."""

    pickup_address = forms.CharField(
        label=_("Pickup address"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    pickup_date = forms.DateField(
        label=_("Preferred pickup date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        label=_("Notes for the hub"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_pickup_date(self):
        return _pickup_date_not_past(self.cleaned_data.get("pickup_date"))


class PledgeCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SpreadsheetUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Asset list (CSV or XLSX)"),
        help_text=_("One row per device, with a header row. Up to %(size)s MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,.tsv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        limit = settings.IMPORT_MAX_FILE_BYTES
        self.fields["file"].help_text = self.fields["file"].help_text % {"size": f"{limit / 1e6:.0f}"}

    def clean_file(self):
        from django.conf import settings

        file = self.cleaned_data["file"]
        if file.size > settings.IMPORT_MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s MB; the largest file accepted is %(limit)s MB. Split it in several files.")
                % {"size": f"{file.size / 1e6:.1f}", "limit": f"{settings.IMPORT_MAX_FILE_BYTES / 1e6:.0f}"}
            )
        return file


class SpreadsheetPledgeForm(PledgeForm, SpreadsheetUploadForm):
    """A new pledge whose devices come from a spreadsheet: the pickup details and the file together."""

    def __init__(self, *args: Any, donors: QuerySet[Donor], **kwargs: Any) -> None:
        super().__init__(*args, donors=donors, **kwargs)


class ColumnMappingForm(forms.Form):
    """The device field each column of the file fills; the person corrects what the matcher guessed."""

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        mapping: list[str | None],
        samples: list[list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore this column)")), *[(name, label) for name, label in IMPORT_FIELDS.items()]]
        samples = samples or []
        for index, header in enumerate(headers):
            values = samples[index] if index < len(samples) else []
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)d") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=mapping[index] if index < len(mapping) else "",
                # What the column holds, so the person can tell "Storage" in GB from "Storage" as "256 GB SSD".
                help_text=(_("For example: %(values)s") % {"values": " · ".join(values)})
                if values
                else _("Empty in the first rows."),
            )

    def clean(self):
        cleaned = super().clean()
        seen: dict[str, str] = {}
        for name, field in self.fields.items():
            value = cleaned.get(name)
            if not value:
                continue
            if value in seen:
                self.add_error(
                    name,
                    _("“%(other)s” already fills this field; ignore one of the two columns.") % {"other": seen[value]},
                )
            else:
                seen[value] = str(field.label)
        return cleaned

    def mapping(self) -> list[str | None]:
        return [self.cleaned_data.get(name) or None for name in self.fields]


class WeightKgField(forms.DecimalField):
    """A weight in kg as people type it on any keyboard: "1.8", "1,8", "1.8 kg" or "1800 g"; two decimals kept.

    A text field with a decimal keypad rather than ``type=number``, which refuses the comma a French or Dutch
    phone keyboard offers. The bounds are the device record's (above 0, at most ``WEIGHT_MAX``), as for imports.
    """

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", WEIGHT_MAX)
        message = _("Enter the weight in kilograms, above 0, for example 1.8.")
        kwargs.setdefault(
            "error_messages",
            {"invalid": message, "min_value": message, "max_value": message},
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # No min/max/step attributes: they belong to number inputs, and the server says what is wrong.
        return {"inputmode": "decimal", "autocomplete": "off", "size": "8"}

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        try:
            number, unit = parse_number(str(value), integer_field=False)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        units = UNITS["weight_kg"]
        if unit is not None and unit not in units:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if unit is not None:
            number *= Decimal(str(units[unit]))
        return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class DeviceRowForm(forms.Form):
    """One device of the pledge. A row left untouched is ignored."""

    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", "—"), *Device.Category.choices],
    )
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=80)
    model = forms.CharField(label=_("Model"), max_length=120, required=False)
    serial_number = forms.CharField(label=_("Serial number"), max_length=80, required=False)
    asset_tag = forms.CharField(label=_("Your asset tag"), max_length=80, required=False)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        required=False,
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        help_text=_("For identical items whose serial numbers you do not know yet."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "quantity"}),
    )
    # Three answers, so that "not said" takes the category's usual answer (a monitor has no disk, a laptop
    # has one) whether or not JavaScript runs; the script only shows which answer that will be.
    has_storage_media = forms.TypedChoiceField(
        label=_("Has a disk or memory card"),
        choices=[("", _("As usual for the category")), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "storage-media"}),
    )
    # Recorded as the donor's declared weight; left empty, the model's or the category's typical weight applies.
    weight_kg = WeightKgField(
        label=_("Weight (kg)"),
        required=False,
        help_text=_("The weight of one device, if you know it."),
    )

    def has_changed(self) -> bool:
        # A row is filled when anything but its defaults was typed: the quantity's 1 alone is not a device.
        return any(name not in ("quantity",) for name in self.changed_data)

    def clean(self):
        cleaned = super().clean()
        quantity = cleaned.get("quantity") or 1
        if quantity > 1:
            for name in ("serial_number", "asset_tag"):
                if cleaned.get(name):
                    self.add_error(
                        name,
                        _("A serial number or asset tag names one device: use one row per device, or leave it empty."),
                    )
        if cleaned.get("has_storage_media") is None and cleaned.get("category"):
            cleaned["has_storage_media"] = cleaned["category"] not in NO_STORAGE_CATEGORIES
        return cleaned


class BaseDeviceRowFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int) -> dict[str, Any]:
        # Every row may stay empty, also those re-rendered after "add more rows" (which come back as
        # initial forms): empty rows are skipped, filled ones validated.
        return {"empty_permitted": True}

    def filled_forms(self) -> list[DeviceRowForm]:
        return [form for form in self.forms if form.has_changed()]

    def clean(self) -> None:
        if any(self.errors):
            return
        filled = self.filled_forms()
        if not filled:
            raise forms.ValidationError(_("Add at least one device."), code="no_devices")
        # One device, one serial: a serial typed twice is a slip, and the database would refuse the whole
        # pledge anyway. Compared without case or spaces, as people type them.
        rows_by_serial: dict[str, list[int]] = defaultdict(list)
        for index, form in enumerate(self.forms):
            serial = form.cleaned_data.get("serial_number", "") if form.has_changed() else ""
            if serial:
                rows_by_serial["".join(serial.split()).casefold()].append(index)
        duplicates = [indexes for indexes in rows_by_serial.values() if len(indexes) > 1]
        for indexes in duplicates:
            rows = ", ".join(str(i + 1) for i in indexes)
            for index in indexes:
                self.forms[index].add_error(
                    "serial_number", _("This serial number is also on row %(rows)s.") % {"rows": rows}
                )
        if duplicates:
            raise forms.ValidationError(
                _("Some serial numbers appear more than once. Each row is one device."), code="duplicate_serial"
            )

    def device_rows(self) -> list[dict[str, Any]]:
        """The filled rows as the pledge service takes them, a row of quantity N giving N devices."""
        rows = []
        for form in self.filled_forms():
            row = {
                name: value.strip() if isinstance(value, str) else value
                for name, value in form.cleaned_data.items()
                if name != "quantity"
            }
            rows.extend(dict(row) for _ in range(form.cleaned_data.get("quantity") or 1))
        return rows


DeviceRowFormSet = forms.formset_factory(
    DeviceRowForm,
    formset=BaseDeviceRowFormSet,
    extra=DEFAULT_ROWS,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
    validate_max=True,
)


class EResourceCommitmentForm(forms.Form):
    """A new e-Resource commitment; the service checks the figures (``e_resource_commitment_create``)."""

    donor = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    basis = forms.ChoiceField(
        label=_("Commit by"),
        choices=[
            ("devices", _("the number of devices we send to Africa")),
            ("kilograms", _("a number of kilograms")),
        ],
        initial="devices",
        widget=forms.RadioSelect,
    )
    devices = forms.IntegerField(
        label=_("Devices sent to Africa"),
        required=False,
        min_value=1,
        help_text=_("For a commitment by devices: each device counts for %(kg)s kg of e-waste."),
    )
    kilograms = forms.DecimalField(
        label=_("Kilograms of e-waste"),
        required=False,
        min_value=1,
        decimal_places=2,
        help_text=_("For a commitment by kilograms."),
    )

    def __init__(self, *args: Any, donors, kg_per_device, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = donors
        self.fields["devices"].help_text = self.fields["devices"].help_text % {"kg": kg_per_device}
        if len(donors) == 1:
            self.fields["donor"].widget = forms.HiddenInput()
            self.fields["donor"].initial = donors[0].pk
        # Which figure is needed depends on the basis: not "required" for the browser, but not "(optional)" either.
        for name in ("devices", "kilograms"):
            self.fields[name].conditionally_required = True
            self.fields[name].widget.attrs["inputmode"] = "numeric" if name == "devices" else "decimal"

    def clean(self):
        cleaned = super().clean()
        basis = cleaned.get("basis")
        if basis == "devices" and cleaned.get("devices") is None and "devices" not in self.errors:
            self.add_error("devices", _("Enter how many devices you send to Africa."))
        if basis == "kilograms" and cleaned.get("kilograms") is None and "kilograms" not in self.errors:
            self.add_error("kilograms", _("Enter a number of kilograms, e.g. 250 or 250.5."))
        return cleaned
