"""Pledging rules: quantities, the storage default by category, the suggested hub, no past pickup dates, and
editing or cancelling a pledge until its first device arrives, with each change recorded."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from donations.factories import DonationFactory, DonorFactory
from donations.models import Donation, DonationChange
from donations.selectors import hub_suggested_for_donor, hub_usual_for_donor
from donations.services import DonationError, donation_cancel, donation_pledge, donation_update
from donations.tests.pledge_forms import laptop, pledge_data
from hubs.accounts import account_email_mark_verified
from hubs.factories import UserFactory
from hubs.models import Hub, HubKind
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device
from refurbishing.services import device_transition
from refurbishing.weights import weight_table


def test_a_row_with_a_quantity_pledges_that_many_devices_each_with_its_event(client, hubs, donor_user):
    client.force_login(donor_user)
    rows = [{"category": "monitor", "manufacturer": "Iiyama", "model": "ProLite", "quantity": "12"}, laptop("SN-1")]
    response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows))
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert Device.objects.filter(donation=donation, category="monitor", serial_number="").count() == 12
    assert Device.objects.filter(donation=donation).count() == 13
    for device in Device.objects.filter(donation=donation):
        assert list(device.events.values_list("action", "to_state")) == [("pledge", "pledged")]


def test_a_quantity_with_a_serial_number_is_refused(client, hubs, donor_user):
    client.force_login(donor_user)
    rows = [laptop("SN-1", quantity="3")]
    response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows))
    assert response.status_code == 200
    assert "use one row per device" in response.content.decode()
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    ("category", "answer", "expected"),
    [
        ("laptop", None, True),
        ("desktop", None, True),
        ("server", None, True),
        ("tablet", None, True),
        ("smartphone", None, True),
        ("monitor", None, False),
        ("monitor", True, True),  # the donor's own answer wins
        ("laptop", False, False),
    ],
)
def test_has_storage_media_defaults_by_category(client, hubs, donor_user, category, answer, expected):
    client.force_login(donor_user)
    rows = [laptop("SN-1", category=category, has_storage_media=answer)]
    assert client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows)).status_code == 302
    assert Device.objects.get().has_storage_media is expected


def test_the_pledge_page_carries_the_storage_hint_script_and_no_inline_script(client, donor_user, hubs):
    client.force_login(donor_user)
    html = client.get(reverse("donations:pledge")).content.decode()
    assert 'src="/static/js/pledge-rows.js"' in html
    assert "<script>" not in html
    assert 'data-no-storage="monitor"' in html
    assert "<template data-empty-row>" in html


@pytest.mark.parametrize(("country", "hub"), [("BE", "BE-BRU"), ("NL", "BE-BRU"), ("ZA", "ZA-JNB"), ("UG", "KE-MBA")])
def test_the_receiving_hub_is_suggested_from_the_donors_country(hubs, country, hub):
    assert hub_suggested_for_donor(donor=DonorFactory(country=country)) == hubs[hub]


def test_the_pledge_form_preselects_the_suggested_hub(client, hubs):
    user = UserFactory(username="za-donor")
    account_email_mark_verified(user=user)
    DonorFactory(country="ZA").users.add(user)
    client.force_login(user)
    html = client.get(reverse("donations:pledge")).content.decode()
    assert f'<option value="{hubs["ZA-JNB"].pk}" selected>' in html


def test_a_pickup_date_in_the_past_is_refused_with_a_field_error(client, hubs, donor_user):
    client.force_login(donor_user)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-1")], pickup_date=yesterday)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["pickup_date"] == [
        "The pickup date cannot be in the past: choose today or a later date."
    ]
    assert not Donation.objects.exists()
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-1")], pickup_date=today)
    )
    assert response.status_code == 302


@pytest.fixture
def pledged(hubs, donor_user):
    donation = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    DeviceFactory.create_batch(2, donation=donation)
    return donation


def test_editing_a_pledge_records_who_changed_what_and_shows_it(client, donor_user, pledged):
    client.force_login(donor_user)
    later = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(
        reverse("donations:edit", args=[pledged.reference]),
        {"pickup_address": "Quai 5, Liège", "pickup_date": later, "notes": ""},
    )
    assert response.url == reverse("donations:detail", args=[pledged.reference])
    pledged.refresh_from_db()
    assert pledged.pickup_address == "Quai 5, Liège"
    change = DonationChange.objects.get(donation=pledged)
    assert change.kind == "edited"
    assert change.actor == donor_user
    assert change.changes == {
        "pickup_address": ["Rue de la Loi 1, 1000 Brussels", "Quai 5, Liège"],
        "pickup_date": [None, later],
    }
    page = client.get(response.url).content.decode()
    assert "Changes to this pledge" in page
    assert "Rue de la Loi 1, 1000 Brussels → Quai 5, Liège" in page


def test_an_edit_with_a_past_date_is_refused(client, donor_user, pledged):
    client.force_login(donor_user)
    response = client.post(
        reverse("donations:edit", args=[pledged.reference]),
        {"pickup_address": "Quai 5", "pickup_date": "2001-01-01", "notes": ""},
    )
    assert "cannot be in the past" in response.content.decode()
    assert not DonationChange.objects.exists()


def test_cancelling_marks_the_devices_as_never_arriving_and_records_it(client, donor_user, pledged):
    client.force_login(donor_user)
    response = client.post(reverse("donations:cancel", args=[pledged.reference]), {"reason": "Sold to staff"})
    assert response.status_code == 302
    pledged.refresh_from_db()
    assert pledged.status == Donation.Status.CANCELLED
    for device in Device.objects.filter(donation=pledged):
        assert device.state == "missing"
        assert device.events.last().note == "Donation cancelled by the donor. Sold to staff"
    change = DonationChange.objects.get(donation=pledged)
    assert (change.kind, change.changes, change.actor) == ("cancelled", {"reason": "Sold to staff"}, donor_user)
    assert "This pledge was cancelled." in client.get(response.url).content.decode()
    with pytest.raises(DonationError, match="was cancelled"):
        donation_update(donation=pledged, actor=donor_user, fields={"notes": "again"})


def test_once_the_first_device_is_received_the_pledge_no_longer_changes(client, donor_user, pledged, staff_be):
    device_transition(device=pledged.devices.first(), action="receive", actor=staff_be)
    with pytest.raises(DonationError, match="first devices have arrived"):
        donation_update(donation=pledged, actor=donor_user, fields={"notes": "late"})
    with pytest.raises(DonationError, match="first devices have arrived"):
        donation_cancel(donation=pledged, actor=donor_user)
    client.force_login(donor_user)
    page = client.get(reverse("donations:detail", args=[pledged.reference])).content.decode()
    assert reverse("donations:edit", args=[pledged.reference]) not in page
    response = client.post(reverse("donations:cancel", args=[pledged.reference]), {"reason": ""}, follow=True)
    assert "can no longer change" in response.content.decode()
    pledged.refresh_from_db()
    assert pledged.status == Donation.Status.PLEDGED


def test_another_donors_pledge_cannot_be_edited_or_cancelled(client, pledged):
    stranger = UserFactory(username="other-donor")
    DonorFactory(legal_name="Other NV").users.add(stranger)
    client.force_login(stranger)
    assert client.get(reverse("donations:edit", args=[pledged.reference])).status_code == 404
    assert client.post(reverse("donations:cancel", args=[pledged.reference]), {}).status_code == 404
    pledged.refresh_from_db()
    assert pledged.status == Donation.Status.PLEDGED


# --- hubs whose kind takes no donations from companies ----------------------------------------------------


@pytest.fixture
def kinshasa_partner_site(hubs):
    """Kinshasa as a partner-run site: its devices come from another hub, never from a company's pledge."""
    Hub.objects.filter(code="CD-FIH").update(kind=HubKind.objects.get(code=HubKind.PARTNER_SITE))
    return Hub.objects.select_related("kind").get(code="CD-FIH")


def test_a_pledge_to_a_hub_that_takes_no_company_donations_is_refused_in_a_sentence(kinshasa_partner_site, donor_user):
    donor = donor_user.donors.get()

    with pytest.raises(DonationError) as refused:
        donation_pledge(
            donor=donor, hub=kinshasa_partner_site, pickup_address=donor.address, rows=[laptop("SN-1")], actor=None
        )

    assert str(refused.value) == "Hub CD-FIH does not take donations from companies; choose another hub."
    assert not Donation.objects.exists() and not Device.objects.exists()


def test_the_pledge_form_offers_only_hubs_that_take_company_donations(client, kinshasa_partner_site, donor_user):
    client.force_login(donor_user)

    html = client.get(reverse("donations:pledge")).content.decode()
    assert f'<option value="{kinshasa_partner_site.pk}"' not in html
    assert "Hub BE-BRU (BE-BRU)" in html

    response = client.post(reverse("donations:pledge"), pledge_data(kinshasa_partner_site, [laptop("SN-1")]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["hub"][0]
    assert not Donation.objects.exists()


def test_the_api_refuses_a_pledge_to_a_hub_that_takes_no_company_donations(
    kinshasa_partner_site, donor_user, token_client
):
    body = {
        "hub": "CD-FIH",
        "pickup_address": "Boulevard du 30 Juin 90, Kinshasa",
        "devices": [{"category": "laptop", "manufacturer": "Dell", "serial_number": "API-1"}],
    }

    response = token_client(donor_user).post("/api/v1/donations/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "hub": ["Hub CD-FIH does not take donations from companies; choose another hub."]
    }
    assert not Donation.objects.exists()


def test_no_hub_that_takes_no_company_donations_is_suggested_or_offered_as_the_usual_one(
    kinshasa_partner_site, donor_user
):
    congolese = DonorFactory(country="CD")
    assert hub_suggested_for_donor(donor=congolese) is None  # the person chooses
    donor = donor_user.donors.get()
    DonationFactory(donor=donor, hub=kinshasa_partner_site)  # from before the site became partner-run
    assert hub_usual_for_donor(donor=donor) == (Hub.objects.get(code="BE-BRU"), "country")


# --- The weight a donor may type per row ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1.85", "1.85"), ("1,85", "1.85"), ("1.85 kg", "1.85"), ("1850 g", "1.85"), (" 2 ", "2.00")],
)
def test_a_weight_typed_in_a_row_is_recorded_as_declared(client, hubs, donor_user, typed, expected):
    client.force_login(donor_user)
    rows = [laptop("SN-1", weight_kg=typed)]
    assert client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows)).status_code == 302
    device = Device.objects.get()
    assert (device.weight_kg, device.weight_basis, device.weight_source) == (Decimal(expected), "declared", "")


def test_rows_without_a_weight_keep_the_typical_weight_and_a_quantity_row_weighs_each_device(client, hubs, donor_user):
    client.force_login(donor_user)
    rows = [
        laptop("SN-1"),
        {"category": "monitor", "manufacturer": "Iiyama", "model": "ProLite", "quantity": "3", "weight_kg": "4,2"},
    ]
    assert client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows)).status_code == 302
    laptop_device = Device.objects.get(serial_number="SN-1")
    default = weight_table().lookup(category="laptop", manufacturer="Dell", model="Latitude 5490")
    assert (laptop_device.weight_kg, laptop_device.weight_basis, laptop_device.weight_source) == (
        default.weight_kg,
        default.basis,
        default.source,
    )
    monitors = Device.objects.filter(category="monitor")
    assert sorted(monitors.values_list("weight_kg", "weight_basis")) == [(Decimal("4.20"), "declared")] * 3


# "0.004 kg" rounds to 0.00; "100000" is past the largest weight a device record holds (as for imports).
@pytest.mark.parametrize("typed", ["0", "-1", "0.004 kg", "heavy", "2 m", "100000", "1,2,3"])
def test_a_weight_that_is_not_a_weight_in_kg_is_refused_on_its_row(client, hubs, donor_user, typed):
    client.force_login(donor_user)
    data = pledge_data(hubs["BE-BRU"], [laptop("SN-1"), laptop("SN-2", weight_kg=typed)])
    response = client.post(reverse("donations:pledge"), data)
    assert response.status_code == 200
    assert not Donation.objects.exists()
    form = response.context["formset"].forms[1]
    assert form.errors["weight_kg"] == ["Enter the weight in kilograms, above 0, for example 1.8."]
    assert not response.context["formset"].forms[0].errors
    # The mistake is shown beside the field and linked to it for screen readers.
    html = response.content.decode()
    assert 'id="id_devices-1-weight_kg_error"' in html
    assert f'value="{typed}"' in html


def test_the_weight_field_is_on_every_row_and_the_row_template_with_a_decimal_keypad(client, hubs, donor_user):
    client.force_login(donor_user)
    html = client.get(reverse("donations:pledge")).content.decode()
    for prefix in ("devices-0", "devices-4", "devices-__prefix__"):
        assert f'name="{prefix}-weight_kg"' in html
    field = html[html.index('name="devices-0-weight_kg"') - 200 : html.index('name="devices-0-weight_kg"') + 200]
    assert 'inputmode="decimal"' in field
    assert 'type="text"' in field  # not type=number, which refuses "1,8" from a French or Dutch keypad


def test_a_weight_typed_is_kept_when_more_rows_are_added_without_javascript(client, hubs, donor_user):
    client.force_login(donor_user)
    data = pledge_data(hubs["BE-BRU"], [laptop("SN-1", weight_kg="1,9")], add_rows="1")
    response = client.post(reverse("donations:pledge"), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 10
    assert formset.forms[0]["weight_kg"].value() == "1,9"
    data = pledge_data(hubs["BE-BRU"], [laptop("SN-1", weight_kg="1,9")], total=10)
    assert client.post(reverse("donations:pledge"), data).status_code == 302
    assert Device.objects.get().weight_kg == Decimal("1.90")
