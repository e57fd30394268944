"""Forms for the fields a transition carries; the admin and the API both validate with these."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from hubs.models import Hub

from .models import ConfigurationRecord, InspectionRecord, MediaType, SanitisationRecord

# People reached by one delivery, at most. A slip of the keyboard would go straight into the public totals (and
# past what the database column holds); no single shipment reaches more. The coordinator portal uses the same cap.
BENEFICIARIES_MAX = 1_000_000


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReceiveForm(NoteForm):
    hub = forms.ModelChoiceField(
        label=_("receiving hub"),
        queryset=Hub.objects.filter(active=True),
        required=False,
        help_text=_("Leave empty to receive at the hub the donation was pledged to."),
    )


class _RawCheckboxInput(forms.CheckboxInput):
    # Django's checkbox turns any unknown text into True; hand the raw value to the field to judge instead.
    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.BooleanField):
    """A yes/no that must say so: a checkbox ("on"), true/false, 1/0. Anything else is an error, not a yes."""

    widget = _RawCheckboxInput

    TRUE = {"true", "on", "1", "yes"}
    FALSE = {"false", "off", "0", "no", ""}

    def to_python(self, value):
        if isinstance(value, bool) or value is None:
            return bool(value)
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("Answer true or false."), code="invalid")


class SanitisationForm(NoteForm, forms.ModelForm):
    verified = StrictBooleanField(label=_("verification passed"), required=False)

    class Meta:
        model = SanitisationRecord
        fields = ["method", "technique", "tool", "tool_version", "verification", "verified"]

    def clean_verified(self):
        verified = self.cleaned_data.get("verified")
        if not verified:
            raise forms.ValidationError(_("Only a verified wipe can be recorded. Repeat it or destroy the media."))
        return verified


class InspectionResultField(forms.TypedChoiceField):
    """Passed or failed, from a form's radio buttons ("true"/"false") or a JSON boolean."""

    def to_python(self, value):
        if isinstance(value, bool):
            value = "true" if value else "false"
        return super().to_python(value.lower() if isinstance(value, str) else value)


class InspectionForm(NoteForm, forms.ModelForm):
    passed = InspectionResultField(
        label=_("result"),
        choices=[("true", _("passed")), ("false", _("failed: send to recycling"))],
        coerce=lambda value: value == "true",
    )
    weight_kg = forms.DecimalField(
        label=_("weight measured (kg)"),
        min_value=Decimal("0.01"),
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("If you weighed the device on the scale: its weight replaces any declared or typical weight."),
    )

    class Meta:
        model = InspectionRecord
        fields = ["passed", "grade", "notes"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("passed") and not cleaned.get("grade"):
            self.add_error("grade", _("A device that passes inspection needs a grade (A, B or C)."))
        if cleaned.get("passed") is False:
            cleaned["grade"] = ""
        return cleaned

    def _post_clean(self):  # the service builds the record; skip the model's own validation here
        pass


# What a device has, confirmed at the bench when it is configured: projects' requests are matched on these.
SPEC_FIELDS = ("ram_gb", "storage_gb", "storage_kind")


class ConfigurationForm(NoteForm, forms.ModelForm):
    """What was installed: the system or image is required, the rest as the hub records it.

    With it, what the device has (RAM, storage and its kind), prefilled from the donor's list or the hardware
    report: a device nobody described shows "? GB" and fits no request that asks for RAM or an SSD.
    """

    ram_gb = forms.IntegerField(label=_("RAM (GB)"), min_value=1, max_value=4096, required=False)
    storage_gb = forms.IntegerField(label=_("storage (GB)"), min_value=1, max_value=1_000_000, required=False)
    storage_kind = forms.ChoiceField(label=_("storage kind"), choices=[("", "—"), *MediaType.choices], required=False)

    class Meta:
        model = ConfigurationRecord
        fields = ["operating_system", "os_version", "keyboard_layout", "language", "licence", "notes"]

    def __init__(self, *args, device=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["licence"].required = False
        if device is not None:
            for name in SPEC_FIELDS:
                self.fields[name].initial = getattr(device, name) or None

    def clean_licence(self):
        return self.cleaned_data.get("licence") or ConfigurationRecord.Licence.NONE

    def _post_clean(self):  # the service builds the record
        pass


class RecycleForm(NoteForm):
    weight_kg = forms.DecimalField(
        label=_("weight (kg)"),
        min_value=0.01,
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("Leave empty to use the weight on the device record."),
    )


class BeneficiariesForm(NoteForm):
    beneficiaries = forms.IntegerField(
        label=_("people reached"),
        min_value=0,
        max_value=BENEFICIARIES_MAX,
        help_text=_("How many people this device reaches, as confirmed by the project."),
    )
