from django import forms
from django.utils.translation import gettext_lazy as _

from refurbishing.forms import BeneficiariesForm, NoteForm

from .models import Project


class AllocateForm(NoteForm):
    project = forms.ModelChoiceField(label=_("project"), queryset=Project.objects.select_related("hub"))


class ShipForm(NoteForm):
    pass


class DeliverForm(BeneficiariesForm):
    pass
