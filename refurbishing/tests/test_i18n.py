"""What hub staff read all day, in their language: device states, lifecycle refusals and form errors.

The catalogues are compiled by ``make test`` (and ``make run``); these tests read them as a person would see them.
"""

import pytest
from django.utils import translation

from projects.models import Shipment
from refurbishing.errors import LifecycleError
from refurbishing.factories import DeviceFactory
from refurbishing.forms import InspectionForm, SanitisationForm
from refurbishing.models import Device
from refurbishing.services import device_transition

S = Device.State


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["pledged", "received", "sanitised", "to recycle", "missing"]),
        ("fr", ["promis", "reçu", "assaini", "à recycler", "manquant"]),
        ("nl", ["toegezegd", "ontvangen", "gewist", "te recyclen", "vermist"]),
    ],
)
def test_device_state_labels_follow_the_language(language, expected):
    with translation.override(language):
        labels = [str(state.label) for state in (S.PLEDGED, S.RECEIVED, S.SANITISED, S.TO_RECYCLE, S.MISSING)]
    assert labels == expected


def test_a_shipped_device_and_a_shipped_shipment_agree_in_french():
    # One English word, two French ones: "un appareil expédié", "une expédition expédiée".
    with translation.override("fr"):
        assert (str(S.SHIPPED.label), str(Shipment.Status.SHIPPED.label)) == ("expédié", "expédiée")
        assert (str(S.DELIVERED.label), str(Shipment.Status.DELIVERED.label)) == ("livré", "livrée")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "state", "category"),
    [("fr", "reçu", "ordinateur portable"), ("nl", "ontvangen", "laptop")],
)
def test_a_device_shows_its_state_and_category_in_the_language(hubs, staff_be, language, state, category):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    device_transition(device=device, action="receive", actor=staff_be)
    with translation.override(language):
        assert device.get_state_display() == state
        assert str(device).startswith(f"{category.capitalize()} Dell Latitude 5490")  # a title: capital first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "so there is nothing to wipe"),
        ("fr", "il n'y a donc rien à effacer"),
        ("nl", "er valt dus niets te wissen"),
    ],
)
def test_a_lifecycle_refusal_is_in_the_staff_members_language(hubs, staff_be, sanitisation, language, words):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"], has_storage_media=False)
    device_transition(device=device, action="receive", actor=staff_be)
    with translation.override(language), pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="sanitise", actor=staff_be, record=sanitisation)
    assert words in refused.value.message
    device.refresh_from_db()
    assert device.state == S.RECEIVED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "Cannot ship {device}: it is received, and only a device that is allocated can be."),
        (
            "fr",
            "Vous ne pouvez pas expédier {device}\u00a0: il est à l'état «\u00a0reçu\u00a0», "
            "et cette action n'est possible qu'à l'état attribué.",
        ),
        ("nl", "U kunt {device} niet verzenden: de status is 'ontvangen', en dat kan alleen bij de status toegewezen."),
    ],
)
def test_a_move_from_the_wrong_state_is_refused_in_a_whole_sentence(hubs, staff_be, language, refusal):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    device_transition(device=device, action="receive", actor=staff_be)
    with translation.override(language), pytest.raises(LifecycleError) as refused:
        device_transition(device=device, action="ship", actor=staff_be)
    with translation.override(language):
        assert refused.value.message == refusal.format(device=device)


@pytest.mark.parametrize(
    ("language", "unverified", "no_grade"),
    [
        (
            "en",
            "Only a verified wipe can be recorded. Repeat it or destroy the media.",
            "A device that passes inspection needs a grade (A, B or C).",
        ),
        (
            "fr",
            "Seul un effacement vérifié peut être enregistré. Recommencez-le ou détruisez le support.",
            "Un appareil qui réussit l'inspection doit recevoir un grade (A, B ou C).",
        ),
        (
            "nl",
            "Alleen een geverifieerde wissing kan worden geregistreerd. Herhaal de wissing of vernietig de drager.",
            "Een apparaat dat de keuring doorstaat, heeft een klasse nodig (A, B of C).",
        ),
    ],
)
def test_form_errors_are_in_the_language(language, unverified, no_grade):
    wipe = SanitisationForm(
        data={"method": "purge", "technique": "ATA Secure Erase", "tool": "nwipe", "verification": "full"}
    )
    inspection = InspectionForm(data={"passed": "true", "grade": ""})
    with translation.override(language):
        assert not wipe.is_valid() and not inspection.is_valid()
        assert wipe.errors["verified"] == [unverified]
        assert inspection.errors["grade"] == [no_grade]


def test_the_nist_methods_use_the_established_terms():
    methods = SanitisationForm.base_fields["method"].choices
    with translation.override("fr"):
        french = [str(label) for value, label in methods if value]
    with translation.override("nl"):
        dutch = [str(label) for value, label in methods if value]
    assert [label.split(" ")[0] for label in french] == ["nettoyage", "purge", "destruction"]
    assert [label.split(" ")[0] for label in dutch] == ["opschonen", "purgen", "vernietigen"]
