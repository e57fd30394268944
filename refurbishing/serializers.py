from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.serializers import ModelSerializer
from hubs.selectors import partner_ids_for_user

from .lifecycle import ACTIONS, actions_from
from .models import ConfigurationRecord, Device, DeviceEvent, InspectionRecord, SanitisationRecord, WeeeCategory
from .selectors import device_event_list
from .services import REGISTERABLE_FIELDS
from .work_orders.selectors import work_order_open_holding
from .work_orders.services import work_order_actions_allowed, work_order_needed


class DeviceEventSerializer(ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Plain strings in the schema: the device's own ``state`` already names the state enum, and
    # drf-spectacular refuses one choice set under several names (settings hold no ENUM_NAME_OVERRIDES).
    from_state = serializers.CharField(read_only=True, help_text="State before the move; empty for the pledge.")
    to_state = serializers.CharField(read_only=True, help_text="State after the move.")

    class Meta:
        model = DeviceEvent
        fields = ["action", "from_state", "to_state", "actor", "hub", "occurred_at", "note", "data"]
        read_only_fields = fields


class DeviceSerializer(ModelSerializer):
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    donation = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the device may take next.")
    # Null until known (a device registered before the defaults table, in a category the table lacks).
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
            "hub",
            "donation",
            "label_code",
            *REGISTERABLE_FIELDS,
            "weee_category",
            "weight_basis",
            "weight_source",
            "grade",
            "state",
            "version",
            "allowed_actions",
            "updated_at",
        ]
        read_only_fields = fields
        # Empty until the device passes inspection; common.serializers keeps the empty choice in the schema.
        extra_kwargs = {
            "grade": {"help_text": "A, B or C once the device passed inspection; empty before."},
            "weight_kg": {"help_text": "Weight in kg; weight_basis says whether measured, declared or a default."},
            "weight_basis": {
                "help_text": "measured (at the bench), declared (donor or hardware report), model or category "
                "(defaults from the table); empty when no weight is known."
            },
            "weight_source": {"help_text": "For a default weight: the table row's source."},
        }

    # Strings rather than the action enum, which the transition request already names (see DeviceEventSerializer).
    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, device: Device) -> list[str]:
        """The actions the device's state leads to, less those the partner guard refuses the caller (a partner's
        user sees only the steps their work order lists, none once it is past due; hub staff see them all)."""
        request = self.context.get("request")
        actor = getattr(request, "user", None)
        actions = actions_from(device.state)
        if not work_order_needed(device=device, actor=actor):
            return actions
        orders = self._partner_orders(device, actor)
        return work_order_actions_allowed(device=device, actor=actor, actions=actions, orders=orders)

    def _partner_orders(self, device: Device, actor) -> dict:
        """The caller's partners' open orders by device, read once for a whole list (the list shares the context)."""
        instance = self.root.instance
        if not isinstance(instance, list | QuerySet):
            return work_order_open_holding(device_ids=[device.pk], partner_ids=partner_ids_for_user(user=actor))
        if "partner_orders" not in self.context:
            self.context["partner_orders"] = work_order_open_holding(
                device_ids=[row.pk for row in instance], partner_ids=partner_ids_for_user(user=actor)
            )
        return self.context["partner_orders"]


class DeviceDetailSerializer(DeviceSerializer):
    """A device with its chain of custody, oldest event first."""

    events = serializers.SerializerMethodField()

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "events"]
        read_only_fields = fields

    @extend_schema_field(DeviceEventSerializer(many=True))
    def get_events(self, device: Device) -> list[dict]:
        return DeviceEventSerializer(device_event_list(device=device), many=True).data


class DeviceTransitionRequestSerializer(serializers.Serializer):
    """What ``POST /devices/{id}/transitions/`` takes: the action and the fields that action carries.

    It documents the body; the action's own form validates it (the same form the admin uses).
    """

    action = serializers.ChoiceField(choices=ACTIONS)
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The device version you last saw; a different current version answers 409.",
    )
    note = serializers.CharField(required=False, allow_blank=True)
    hub = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="receive: id of the receiving hub (default: the hub the device was pledged to).",
    )
    method = serializers.ChoiceField(
        choices=SanitisationRecord.Method.choices, required=False, help_text="sanitise: NIST SP 800-88 method."
    )
    technique = serializers.CharField(required=False, help_text="sanitise: e.g. NVMe Format with crypto erase.")
    tool = serializers.CharField(required=False, help_text="sanitise: e.g. nwipe, Blancco Drive Eraser.")
    tool_version = serializers.CharField(required=False, allow_blank=True, help_text="sanitise")
    verification = serializers.ChoiceField(
        choices=SanitisationRecord.Verification.choices, required=False, help_text="sanitise"
    )
    verified = serializers.BooleanField(required=False, help_text="sanitise: must be true.")
    passed = serializers.BooleanField(required=False, help_text="inspect: false sends the device to recycling.")
    grade = serializers.ChoiceField(
        choices=InspectionRecord._meta.get_field("grade").choices,
        required=False,
        allow_blank=True,
        help_text="inspect: required when passed.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, help_text="inspect, configure")
    operating_system = serializers.CharField(
        required=False, help_text="configure (required): the operating system or image installed."
    )
    os_version = serializers.CharField(required=False, allow_blank=True, help_text="configure")
    keyboard_layout = serializers.CharField(required=False, allow_blank=True, help_text="configure: e.g. US, AZERTY.")
    language = serializers.CharField(required=False, allow_blank=True, help_text="configure: e.g. English.")
    licence = serializers.ChoiceField(
        choices=ConfigurationRecord.Licence.choices, required=False, help_text="configure: default none."
    )
    project = serializers.IntegerField(required=False, help_text="allocate: id of the beneficiary project.")
    beneficiaries = serializers.IntegerField(
        required=False, min_value=0, help_text="deliver: how many people the device reaches."
    )
    weight_kg = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="inspect: weight measured at the bench (optional, sets weight_basis to measured); "
        "recycle: weight handed over (default: the device's recorded weight).",
    )


class DeviceBulkFilterSerializer(serializers.Serializer):
    """Which devices at your hubs a bulk action takes, when not listed by id (the list endpoint's filters)."""

    state = serializers.ChoiceField(choices=Device.State.choices, required=False)
    hub = serializers.CharField(required=False, help_text="Hub code (e.g. KE-MBA) or hub id.")
    category = serializers.ChoiceField(choices=Device.Category.choices, required=False)
    serial_number = serializers.CharField(required=False)


class DeviceBulkRequestSerializer(DeviceTransitionRequestSerializer):
    """What ``POST /devices/bulk/`` takes: an action, the devices (ids or a filter) and the action's fields."""

    version = None
    device_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    filter = DeviceBulkFilterSerializer(required=False)


class BulkJobSerializer(serializers.Serializer):
    """A bulk action's progress: devices handled, moved, already there (skipped) and refused with the reason."""

    id = serializers.IntegerField()
    action = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, done or failed.")
    status_label = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    moved = serializers.IntegerField()
    skipped = serializers.IntegerField()
    refused_count = serializers.IntegerField()
    refused = serializers.ListField(child=serializers.DictField(), help_text='[{"id", "device", "reason"}]')
    percent = serializers.IntegerField()
    finished = serializers.BooleanField()
    error = serializers.CharField()
