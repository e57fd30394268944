"""API shapes for donors' systems: their donations, with devices and states, and a new pledge."""

from collections import Counter
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.serializers import ModelSerializer
from hubs.models import Hub
from refurbishing.models import Device, DeviceState, WeeeCategory
from refurbishing.serializers import DeviceSerializer

from .models import Donation, EResourceCommitment, EvidenceArchive
from .services.evidence import EVIDENCE_MAX_DAYS

# Categories that carry storage media unless the caller says otherwise (monitors, printers... do not).
STORAGE_CATEGORIES = frozenset({"laptop", "desktop", "server", "tablet", "smartphone"})
MAX_DEVICES_PER_REQUEST = 1000


class DonationSerializer(ModelSerializer):
    donor = serializers.CharField(source="donor.legal_name", read_only=True)
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    device_count = serializers.IntegerField(read_only=True, help_text="Devices pledged in this donation.")

    class Meta:
        model = Donation
        fields = ["reference", "donor", "hub", "status", "pledged_at", "pickup_date", "received_at", "device_count"]
        read_only_fields = fields


class DonationDeviceSerializer(ModelSerializer):
    grade = serializers.ChoiceField(
        choices=Device.Grade.choices,
        allow_blank=True,
        read_only=True,
        help_text="A, B or C once the device passed inspection; empty before.",
    )
    weee_category = serializers.ChoiceField(
        choices=WeeeCategory.choices,
        read_only=True,
        allow_null=True,
        allow_blank=True,
        help_text="WEEE category of Directive 2012/19/EU, Annex III (1 to 6); null while unknown.",
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "category",
            "manufacturer",
            "model",
            "serial_number",
            "asset_tag",
            "has_storage_media",
            "state",
            "grade",
            "weee_category",
            "weight_kg",
            "weight_basis",
            "weight_source",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "weight_kg": {"help_text": "Weight in kg; weight_basis says whether measured, declared or a default."},
            "weight_basis": {
                "help_text": "measured (at the hub), declared (by you or a hardware report), model or category "
                "(a typical weight); empty when no weight is known."
            },
            "weight_source": {"help_text": "For a typical weight: where it comes from."},
        }


class DonationDetailSerializer(DonationSerializer):
    """A donation with each device and its current state, and how many devices are in each state."""

    devices = DonationDeviceSerializer(many=True, read_only=True)
    state_counts = serializers.SerializerMethodField(help_text="Number of devices per lifecycle state.")

    class Meta(DonationSerializer.Meta):
        fields = [*DonationSerializer.Meta.fields, "pickup_address", "notes", "state_counts", "devices"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_state_counts(self, donation: Donation) -> dict[str, int]:
        counts = Counter(device.state for device in donation.devices.all())
        return {state: counts[state] for state in DeviceState.values if counts[state]}


class PledgedDeviceSerializer(serializers.Serializer):
    """One device of a new donation."""

    category = serializers.ChoiceField(choices=Device.Category.choices)
    manufacturer = serializers.CharField(max_length=80)
    model = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    serial_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    asset_tag = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    has_storage_media = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Whether it holds a disk or memory card; by default yes for laptops, desktops, servers, "
        "tablets and smartphones, no for the rest.",
    )
    weight_kg = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Its weight in kg if you know it (recorded as declared); otherwise a typical weight applies.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = {name: value.strip() if isinstance(value, str) else value for name, value in attrs.items()}
        if not attrs["manufacturer"]:
            raise serializers.ValidationError({"manufacturer": ["This field may not be blank."]})
        if attrs.get("has_storage_media") is None:
            attrs["has_storage_media"] = attrs["category"] in STORAGE_CATEGORIES
        return attrs


class DonationCreateSerializer(serializers.Serializer):
    """A new donation: where and when to collect, and its devices (each registered with its pledged event)."""

    donor = serializers.IntegerField(
        required=False,
        help_text="The id of your organisation; needed only if your account belongs to several.",
    )
    hub = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Hub.objects.filter(active=True).select_related("kind"),
        help_text="Code of the receiving hub, e.g. BE-BRU: one whose kind takes donations from companies.",
    )
    pickup_address = serializers.CharField(max_length=1000)
    pickup_date = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    devices = PledgedDeviceSerializer(many=True, min_length=1, max_length=MAX_DEVICES_PER_REQUEST)

    def validate_pickup_date(self, value):
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("A pickup date cannot be in the past.")
        return value

    def validate_pickup_address(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()

    def validate_devices(self, devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: dict[str, int] = {}
        for index, device in enumerate(devices):
            key = "".join(device["serial_number"].split()).casefold()
            if key and key in seen:
                raise serializers.ValidationError(
                    f"Device {index + 1} has the serial number of device {seen[key] + 1}: each device is one entry."
                )
            if key:
                seen[key] = index
        return devices


class CheckInScanRequestSerializer(serializers.Serializer):
    scan = serializers.CharField(max_length=80, help_text="The serial number, asset tag or label code scanned.")
    category = serializers.ChoiceField(
        choices=Device.Category.choices,
        required=False,
        allow_blank=True,
        help_text="For a device that was not pledged: its category.",
    )
    manufacturer = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="For a device that was not pledged: its make."
    )
    model = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text="For a device that was not pledged: its model."
    )


class CheckInScanResponseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=["received", "claimed", "unexpected", "already_received"],
        help_text="received: a pledged device arrived; claimed: a device pledged without a serial (by quantity) "
        "arrived, and the scanned code is now its serial; unexpected: not pledged, added to the donation and "
        "received; already_received: scanned before, nothing changed.",
    )
    message = serializers.CharField()
    device = DeviceSerializer()


class CheckInSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    expected = serializers.IntegerField(help_text="Devices pledged.")
    received = serializers.IntegerField(help_text="Devices received, the unexpected ones included.")
    unexpected = serializers.IntegerField(help_text="Devices found at check-in that were not pledged.")
    missing = serializers.IntegerField(help_text="Pledged devices that never arrived.")
    awaited = serializers.IntegerField(help_text="Pledged devices not scanned yet (0 once closed).")


class EResourceCommitmentSerializer(ModelSerializer):
    """A commitment with its progress; ``certificate_number`` once it is fully covered."""

    donor = serializers.CharField(source="donor.legal_name", read_only=True)
    donor_id = serializers.IntegerField(read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="Kilograms allocated, in whole percent of the target.")

    class Meta:
        model = EResourceCommitment
        fields = [
            "id",
            "donor",
            "donor_id",
            "basis",
            "devices",
            "target_kg",
            "allocated_kg",
            "percent",
            "status",
            "created_at",
            "covered_at",
            "certificate_number",
        ]
        read_only_fields = fields


class EResourceCommitmentCreateSerializer(serializers.Serializer):
    donor = serializers.IntegerField(
        required=False, help_text="The organisation's id; needed only if your account belongs to several."
    )
    basis = serializers.ChoiceField(choices=EResourceCommitment.Basis.choices)
    devices = serializers.IntegerField(
        required=False, min_value=1, help_text="For a commitment by devices: how many you send to Africa."
    )
    kilograms = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=1, help_text="For a commitment by kilograms."
    )


class EvidenceArchiveSerializer(ModelSerializer):
    """An auditor's evidence archive for a hub and date range, with the progress of its build."""

    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="Parts written, in whole percent of all parts.")
    finished = serializers.BooleanField(read_only=True, help_text="Built (status done) or failed: polling may stop.")
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the zip once it is built; null before."
    )

    class Meta:
        model = EvidenceArchive
        fields = [
            "id",
            "hub",
            "date_from",
            "date_to",
            "requested_by",
            "status",
            "status_label",
            "total",
            "done",
            "percent",
            "finished",
            "size",
            "sha256",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "total": {"help_text": "Parts the archive holds (one per certificate, and five more); 0 until it starts."},
            "done": {"help_text": "Parts written so far."},
            "size": {"help_text": "Size of the zip in bytes, once built."},
            "sha256": {"help_text": "SHA-256 of the whole zip, once built; each part's is in its MANIFEST.sha256."},
        }

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, archive: EvidenceArchive) -> str | None:
        if archive.status != EvidenceArchive.Status.DONE:
            return None
        path = reverse("api-evidence-archive-download", args=[archive.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EvidenceArchiveCreateSerializer(serializers.Serializer):
    hub = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Hub.objects.none(),
        help_text="The code of a hub you manage, e.g. KE-MBA.",
        error_messages={"does_not_exist": "No hub with the code {value} among the hubs you manage."},
    )
    date_from = serializers.DateField(help_text="The range's first day.")
    date_to = serializers.DateField(
        help_text=f"The range's last day, included: at most {EVIDENCE_MAX_DAYS} days in one archive."
    )

    def __init__(self, *args, hubs=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if hubs is not None:
            self.fields["hub"].queryset = hubs
