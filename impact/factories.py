"""Test data for the public read model: opening balances, and the counters' totals as tests read them."""

from decimal import Decimal

import factory

from hubs.factories import HubFactory
from impact.models import ImpactCounter, Metric, OpeningBalance


class OpeningBalanceFactory(factory.django.DjangoModelFactory):
    """A hub's historic total for one metric: ``OpeningBalanceFactory(hub=hub, metric=..., value=...)``."""

    class Meta:
        model = OpeningBalance

    hub = factory.SubFactory(HubFactory, code="BE-BRU")
    metric = Metric.DEVICES_RECEIVED
    value = 0


def counter_total(metric: str, **filters) -> Decimal:
    """The sum of the counter cells of ``metric`` (any hub, kind and month unless ``filters`` narrow it)."""
    return sum((cell.value for cell in ImpactCounter.objects.filter(metric=metric, **filters)), Decimal(0))
