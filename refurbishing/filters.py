import django_filters
from django.db.models import QuerySet

from .models import Device, DeviceState


class DeviceFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DeviceState.choices)
    category = django_filters.ChoiceFilter(choices=Device.Category.choices)
    hub = django_filters.CharFilter(method="filter_hub", help_text="Hub code (e.g. KE-MBA) or hub id.")
    serial_number = django_filters.CharFilter(lookup_expr="exact")

    class Meta:
        model = Device
        fields = ["state", "hub", "category", "serial_number"]

    def filter_hub(self, queryset: QuerySet[Device], name: str, value: str) -> QuerySet[Device]:
        value = value.strip()
        if value.isdigit():
            return queryset.filter(hub_id=int(value))
        # The device list already joins the hub, so filtering on its code adds no second join.
        return queryset.filter(hub__code=value.upper())
