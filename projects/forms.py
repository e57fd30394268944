from django import forms
from django.utils.translation import gettext_lazy as _

from hubs.forms import OrganisationSignUpForm
from hubs.models import Hub
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
    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        help_text=_("Two-letter code, e.g. KE, CD, ZA."),
        error_messages={"invalid": _("Enter the two-letter country code, e.g. KE.")},
    )
    place = forms.CharField(label=_("Town or district"), max_length=200)
    hub = forms.ModelChoiceField(label=_("Hub that serves you"), queryset=Hub.objects.filter(active=True))
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].min_value = 1
        self.fields["quantity"].max_value = 10_000
        self.fields["min_cpu"].required = False
        self.fields["min_grade"].required = False

    def has_changed(self) -> bool:
        # A row is filled when it names a category or a quantity; the defaults of the others do not count.
        return bool(self.data.get(self.add_prefix("category")) or self.data.get(self.add_prefix("quantity")))

    def clean_min_grade(self) -> str:
        return self.cleaned_data.get("min_grade") or "C"


RequestFormSet = forms.formset_factory(RequestForm, extra=3, max_num=10, min_num=1, validate_min=True)


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
        label=_("Reason (required to ask for changes or decline)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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
