import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Device, DeviceState

# The largest id any supported database stores (a signed 64-bit integer); a longer number matches no row.
MAX_ROW_ID = 2**63 - 1


def parse_row_id(value: str) -> int | None:
    """The id typed in a URL, or None when it cannot be one (so the caller matches nothing rather than fails).

    ``str.isdigit`` alone lets through "²" (which ``int`` refuses) and numbers no column holds (which SQLite
    refuses to bind, and past 4,300 digits ``int`` refuses too), each of which would be a 500.
    """
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ROW_ID)):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None


class DeviceFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DeviceState.choices)
    category = django_filters.ChoiceFilter(choices=Device.Category.choices)
    hub = django_filters.CharFilter(method="filter_hub", help_text=_("Hub code (e.g. KE-MBA) or hub id."))
    serial_number = django_filters.CharFilter(lookup_expr="exact")

    class Meta:
        model = Device
        fields = ["state", "hub", "category", "serial_number"]

    def filter_hub(self, queryset: QuerySet[Device], name: str, value: str) -> QuerySet[Device]:
        value = value.strip()
        if value.isascii() and value.isdigit():
            hub_id = parse_row_id(value)
            return queryset.none() if hub_id is None else queryset.filter(hub_id=hub_id)
        # The device list already joins the hub, so filtering on its code adds no second join.
        return queryset.filter(hub__code=value.upper())
