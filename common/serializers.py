"""The model serializer every API serializer builds on."""

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """DRF's, except that a read-only choice field keeps the empty choice its model field allows.

    DRF drops ``allow_blank`` from a field listed in ``read_only_fields``, so the schema's enum for, say, a
    device's storage kind would leave out the ``""`` the API answers for a device whose drive is not known yet,
    and a client generated from the schema would reject that answer.
    """

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        blank_choice = "choices" in kwargs and kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs
