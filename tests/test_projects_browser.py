"""A beneficiary project's journey in a real Chromium: the coordinator applies, the hub manager approves,
allocates the suggested devices and ships them, and the coordinator confirms the delivery."""

import pytest
from django.urls import reverse

from projects.factories import configured_device
from projects.models import DeliveryConfirmation, Project, Shipment
from refurbishing.models import Device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, username: str):
    page = browser.new_context().new_page()
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", username)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page


def test_from_application_to_confirmed_delivery(live_server, browser, hubs, coordinator, manager_ke_mba, staff_ke_mba):
    hub = hubs["KE-MBA"]
    laptops = [configured_device(hub=hub, actor=staff_ke_mba, ram_gb=8) for _ in range(3)]

    # The coordinator applies for two laptops with 8 GB.
    applicant = log_in(browser, live_server, coordinator.username)
    applicant.goto(live_server.url + reverse("projects:apply"))
    applicant.fill("#id_organisation", "Likoni Secondary")
    applicant.fill("#id_name", "Science lab")
    applicant.select_option("#id_kind", "education")
    applicant.select_option("#id_country", "KE")
    applicant.fill("#id_place", "Likoni")
    applicant.select_option("#id_hub", str(hub.pk))
    applicant.fill("#id_expected_beneficiaries", "120")
    applicant.select_option("#id_requests-0-category", "laptop")
    applicant.fill("#id_requests-0-quantity", "2")
    applicant.fill("#id_requests-0-min_ram_gb", "8")
    applicant.fill("#id_requests-0-keyboard_layout", "QWERTY US")
    applicant.fill("#id_requests-0-language", "en")
    with applicant.expect_navigation():
        applicant.click("text=Send the application")
    assert "submitted" in applicant.locator("main").inner_text()
    project = Project.objects.get(name="Science lab")

    # The hub manager approves it, accepts the suggested allocation, puts the shipment together and ships it.
    manager = log_in(browser, live_server, manager_ke_mba.username)
    manager.goto(live_server.url + reverse("projects:hub"))
    with manager.expect_navigation():
        manager.click("text=Science lab")
    manager.check("input[value=approved]")
    with manager.expect_navigation():
        manager.click("text=Record the decision")
    assert Project.objects.get(pk=project.pk).status == "approved"
    manager.goto(live_server.url + reverse("projects:hub-request", args=[project.requests.get().pk]))
    with manager.expect_navigation():
        manager.click("text=Accept the suggestion")
    assert "2 devices allocated." in manager.locator(".messages").inner_text()
    manager.fill("#id_carrier", "G4S Kenya")
    with manager.expect_navigation():
        manager.click("text=Put the shipment together")
    shipment = Shipment.objects.get(project=project)
    assert manager.locator("caption", has_text="Devices in this shipment").count() == 1
    # The tracking reference arrives when the parcel is handed over: typed, then straight to "Ship".
    manager.fill("#id_tracking_reference", "G4S-123")
    with manager.expect_navigation():
        manager.click("text=Ship the whole shipment")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_reference) == ("shipped", "G4S Kenya", "G4S-123")

    # The coordinator confirms the delivery from the shipment's list of devices.
    applicant.goto(live_server.url + reverse("projects:shipments"))
    with applicant.expect_navigation():
        applicant.click(f"text=#{shipment.pk}")
    facts = applicant.locator("dl.facts").inner_text()
    assert "G4S Kenya" in facts and "G4S-123" in facts
    applicant.fill("#id_people_served", "60")
    with applicant.expect_navigation():
        applicant.click("form.confirm button[type=submit]")
    assert "reaching 60 people" in applicant.locator(".messages").inner_text()

    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == ("delivered", 60)
    assert DeliveryConfirmation.objects.get().people_served == 60
    delivered = set(Device.objects.filter(state="delivered").values_list("pk", flat=True))
    assert len(delivered) == 2 and delivered <= {d.pk for d in laptops}
