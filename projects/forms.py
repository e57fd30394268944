from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from hubs.forms import OrganisationSignUpForm
from hubs.selectors import hub_list_sending_to_projects
from refurbishing.forms import BeneficiariesForm, NoteForm

from .models import DeviceRequest, Project


class AllocateForm(NoteForm):
    project = forms.ModelChoiceField(label=_("project"), queryset=Project.objects.select_related("hub"))


class ShipForm(NoteForm):
    pass


class DeliverForm(BeneficiariesForm):
    pass


# --- the project portal and the hub's pages -------------------------------------------------------------------


class ApplicationForm(forms.Form):
    organisation = forms.CharField(label=_("Your organisation"), max_length=200)
    name = forms.CharField(label=_("Project name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of project"), choices=Project.Kind.choices)
    # Every country by its name in the reader's language, as on the sign-up forms; the code is what is stored.
    country = CountryField(blank_label=_("Choose a country")).formfield(
        label=_("Country"), widget=forms.Select(attrs={"autocomplete": "country"})
    )
    place = forms.CharField(label=_("Town or district"), max_length=200)
    # Only the hubs whose kind sends devices to projects.
    hub = forms.ModelChoiceField(label=_("Hub that serves you"), queryset=hub_list_sending_to_projects())
    expected_beneficiaries = forms.IntegerField(
        label=_("People the project will serve"),
        min_value=1,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class ResubmitForm(forms.Form):
    place = forms.CharField(label=_("Town or district"), max_length=200)
    expected_beneficiaries = forms.IntegerField(
        label=_("People the project will serve"), min_value=1, max_value=10_000_000
    )


class RequestForm(forms.ModelForm):
    class Meta:
        model = DeviceRequest
        fields = [
            "category",
            "quantity",
            "min_ram_gb",
            "min_storage_gb",
            "min_cpu",
            "min_grade",
            "ssd_required",
            "keyboard_layout",
            "language",
        ]
        widgets = {
            "quantity": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
            "min_ram_gb": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "min_storage_gb": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    # Sane bounds, stated on the field and in the browser's number input: what one request of one project asks.
    BOUNDS = {"quantity": (1, 1000), "min_ram_gb": (1, 256), "min_storage_gb": (1, 16_384)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.BOUNDS.items():
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update({"min": low, "max": high})
        self.fields["quantity"].error_messages["max_value"] = _(
            "At most %(limit_value)s devices in one request: for more, talk to the hub first."
        )
        self.fields["min_cpu"].required = False
        self.fields["min_grade"].required = False

    def has_changed(self) -> bool:
        # A row is filled when it names a category or a quantity; the defaults of the others do not count.
        return bool(self.data.get(self.add_prefix("category")) or self.data.get(self.add_prefix("quantity")))

    def clean_min_grade(self) -> str:
        return self.cleaned_data.get("min_grade") or "C"


class BaseRequestFormSet(forms.BaseFormSet):
    """The device rows of an application: one to start with, more on "Add another kind of device"."""

    default_error_messages = {
        "too_few_forms": _("Ask for at least one kind of device: choose its category and how many."),
        "too_many_forms": _("At most %(num)d kinds of device in one application."),
    }


REQUEST_ROWS_MAX = 10
RequestFormSet = forms.formset_factory(
    RequestForm,
    formset=BaseRequestFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=REQUEST_ROWS_MAX,
    validate_max=True,
)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Project.Status.APPROVED, _("Approve")),
            (Project.Status.CHANGES_REQUESTED, _("Ask for changes")),
            (Project.Status.DECLINED, _("Decline")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to ask for changes or to decline, so the applicant knows what to do; not to approve."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required for two decisions out of three: neither "(optional)" nor "required" on its own.
        self.fields["reason"].conditionally_required = True

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") in (Project.Status.CHANGES_REQUESTED, Project.Status.DECLINED)
            and not (cleaned.get("reason") or "").strip()
        ):
            self.add_error("reason", _("Say why, so the applicant knows what to change or why it was declined."))
        return cleaned


class CarrierForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=120, required=False)
    tracking_reference = forms.CharField(label=_("Tracking reference"), max_length=120, required=False)


class CorrectionForm(forms.Form):
    people_served = forms.IntegerField(label=_("People reached, corrected"), min_value=1, max_value=1_000_000)
    reason = forms.CharField(
        label=_("Reason for the correction"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StoryForm(forms.Form):
    text = forms.CharField(
        label=_("Your story"),
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the devices changed, in a few sentences. No names, e-mail addresses or phone numbers."),
    )
    devices_count = forms.IntegerField(label=_("Devices in use"), min_value=0, max_value=1_000_000)
    people_count = forms.IntegerField(label=_("People reached"), min_value=0, max_value=10_000_000)


class BeneficiarySignUpForm(OrganisationSignUpForm):
    """A beneficiary organisation, its contact person and its first user; the user signs in by e-mail."""

    name = forms.CharField(
        label=_("Organisation name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    place = forms.CharField(label=_("Town or city"), max_length=120)

    contact_name_help = _("Who the hub calls about your application and deliveries.")
    contact_phone_help = _("With the country code, e.g. +254 20 123 4567.")
    email_help = _("You sign in with it. We send a link to confirm it before your first application.")

    field_order = ["name", "country", "place", "contact_name", "contact_phone", "email", "password1", "password2"]
