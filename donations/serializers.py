from rest_framework import serializers

from refurbishing.models import Device
from refurbishing.serializers import DeviceSerializer


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
        choices=["received", "unexpected", "already_received"],
        help_text="received: a pledged device arrived; unexpected: not pledged, added to the donation and "
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
