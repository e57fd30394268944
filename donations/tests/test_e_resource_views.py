"""The donor's e-Resource page, its certificate, and the public verification of an e-Resource certificate."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from donations.models import EResourceCommitment
from donations.services import e_resource_allocate

from .test_e_resource import commitment, dispatched_batch, donor_with_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def donor(db):
    return donor_with_user()


def test_the_page_shows_each_commitment_with_its_progress(client, hubs, donor):
    organisation, user = donor
    made = commitment(organisation, user, devices=10)  # 200 kg
    e_resource_allocate(batch_id=dispatched_batch(hubs["KE-MBA"], "50").pk)
    _other, stranger = donor_with_user("Other BV")
    commitment(_other, stranger, kg="777")
    client.force_login(user)
    response = client.get(reverse("donations:e-resource"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "10 devices, 200 kg" in page
    assert "50 of 200 kg compensated (25%)" in page
    assert f'<progress id="progress-{made.pk}" max="200.00" value="50.00">' in page
    assert "777" not in page  # another organisation's commitment


def test_making_a_commitment_by_kilograms(client, donor):
    organisation, user = donor
    client.force_login(user)
    response = client.post(
        reverse("donations:e-resource"), {"donor": organisation.pk, "basis": "kilograms", "kilograms": "350.5"}
    )
    assert response.status_code == 302
    made = EResourceCommitment.objects.get()
    assert (made.donor, made.basis, made.target_kg, made.created_by) == (
        organisation,
        "kilograms",
        Decimal("350.50"),
        user,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"basis": "devices", "devices": ""},
        {"basis": "devices", "devices": "-3"},
        {"basis": "kilograms", "kilograms": "abc"},
        {"basis": "tonnes", "kilograms": "5"},
    ],
)
def test_a_bad_commitment_is_refused_with_a_summary_and_nothing_is_written(client, donor, data):
    organisation, user = donor
    client.force_login(user)
    response = client.post(reverse("donations:e-resource"), {"donor": organisation.pk, **data})
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    assert not EResourceCommitment.objects.exists()


def test_nobody_commits_for_an_organisation_they_do_not_belong_to(client, donor):
    organisation, _user = donor
    _other, stranger = donor_with_user("Other BV")
    client.force_login(stranger)
    response = client.post(
        reverse("donations:e-resource"), {"donor": organisation.pk, "basis": "kilograms", "kilograms": "9"}
    )
    assert response.status_code == 400
    assert not EResourceCommitment.objects.exists()


def test_the_page_needs_a_donor_organisation(client, db):
    from hubs.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("donations:e-resource")).status_code == 403
    client.logout()
    assert client.get(reverse("donations:e-resource")).status_code == 302


def test_the_certificate_of_a_covered_commitment_and_its_verification(client, hubs, donor):
    organisation, user = donor
    made = commitment(organisation, user, kg="40")
    batch = dispatched_batch(hubs["ZA-JNB"], "55")
    e_resource_allocate(batch_id=batch.pk)
    made.refresh_from_db()
    client.force_login(user)
    response = client.get(reverse("donations:e-resource-certificate", args=[made.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert made.certificate_number in response["Content-Disposition"]
    page = client.get(reverse("donations:e-resource")).content.decode()
    assert reverse("donations:e-resource-certificate", args=[made.pk]) in page

    client.logout()
    verify = client.get(reverse("certificate-verify", args=[made.certificate_number]))
    assert verify.status_code == 200
    text = verify.content.decode()
    assert "This e-Resource certificate is genuine" in text and "Acme NV" in text
    assert client.get(reverse("certificate-verify", args=[made.certificate_number.lower()])).status_code == 200
    assert client.get(reverse("certificate-verify", args=["CTG-AAAA-BBBB-CCCC-DDDD"])).status_code == 404


def test_no_certificate_before_the_commitment_is_covered_nor_for_another_donor(client, hubs, donor):
    organisation, user = donor
    made = commitment(organisation, user, kg="400")
    e_resource_allocate(batch_id=dispatched_batch(hubs["ZA-JNB"], "55").pk)
    client.force_login(user)
    assert client.get(reverse("donations:e-resource-certificate", args=[made.pk])).status_code == 302
    _other, stranger = donor_with_user("Other BV")
    client.force_login(stranger)
    assert client.get(reverse("donations:e-resource-certificate", args=[made.pk])).status_code == 404


@pytest.mark.parametrize(
    ("language", "title"),
    [("fr", "e-Resource : compensez vos déchets électroniques"), ("nl", "e-Resource: compenseer uw e-waste")],
)
def test_the_page_and_verification_in_french_and_dutch(client, hubs, donor, language, title):
    organisation, user = donor
    made = commitment(organisation, user, kg="40")
    e_resource_allocate(batch_id=dispatched_batch(hubs["ZA-JNB"], "55").pk)
    made.refresh_from_db()
    client.force_login(user)
    with translation.override(language):
        url = reverse("donations:e-resource")
        verify_url = reverse("certificate-verify", args=[made.certificate_number])
    assert url.startswith(f"/{language}/")
    assert title in client.get(url).content.decode()
    verify = client.get(verify_url).content.decode()
    assert {"fr": "Ce certificat e-Resource est authentique", "nl": "Dit e-Resource-certificaat is echt"}[
        language
    ] in verify


def test_the_api_lists_only_the_callers_commitments_and_makes_one(hubs, donor, token_client):
    organisation, user = donor
    own = commitment(organisation, user, kg="40")
    _other, stranger = donor_with_user("Other BV")
    theirs = commitment(_other, stranger, kg="90")
    e_resource_allocate(batch_id=dispatched_batch(hubs["ZA-JNB"], "55").pk)
    api = token_client(user)
    listed = api.get("/api/v1/e-resource/commitments/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(r["id"], r["status"], r["allocated_kg"], r["percent"]) for r in rows] == [
        (own.pk, "covered", "40.00", 100)
    ]
    assert rows[0]["certificate_number"]
    assert api.get(f"/api/v1/e-resource/commitments/{theirs.pk}/").status_code == 404

    made = api.post("/api/v1/e-resource/commitments/", {"basis": "devices", "devices": 3}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["target_kg"], made.json()["status"]) == ("60.00", "open")
    refused = api.post("/api/v1/e-resource/commitments/", {"basis": "kilograms"}, format="json")
    assert refused.status_code == 400 and "kilograms" in refused.json()["errors"]
    assert EResourceCommitment.objects.filter(donor=organisation).count() == 2


@pytest.mark.parametrize(
    ("language", "title", "statement"),
    [
        ("en", "e-Resource certificate", "Each kilogram is allocated to one donor only."),
        ("fr", "Certificat e-Resource", "Chaque kilogramme n'est attribué qu'à un seul donateur."),
        ("nl", "e-Resource-certificaat", "Elke kilogram wordt aan slechts één donor toegewezen."),
    ],
)
def test_the_certificate_lists_the_batches_in_the_readers_language_and_its_qr_opens_the_verification(
    client, hubs, donor, language, title, statement
):
    import io

    import zxingcpp
    from pypdf import PdfReader

    organisation, user = donor
    made = commitment(organisation, user, kg="40")
    first, second = dispatched_batch(hubs["KE-MBA"], "15.5"), dispatched_batch(hubs["ZA-JNB"], "55")
    e_resource_allocate(batch_id=first.pk)
    e_resource_allocate(batch_id=second.pk)
    made.refresh_from_db()
    client.force_login(user)
    with translation.override(language):
        url = reverse("donations:e-resource-certificate", args=[made.pk])
    content = client.get(url).content
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert title in text and statement in text and made.certificate_number in text
    assert first.reference in text and second.reference in text
    assert ("15.50" if language == "en" else "15,50") in text and ("24.50" if language == "en" else "24,50") in text
    images = [image.image for page in reader.pages for image in page.images]
    decoded = [result.text for image in images for result in zxingcpp.read_barcodes(image)]
    assert decoded == [f"http://testserver/verify/{made.certificate_number}/"]
