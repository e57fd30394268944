"""The server-rendered charts write their figures the way each language writes numbers."""

import re

import pytest
from django.utils import translation

from impact.charts import Series, horizontal_bars, monthly_bars


@pytest.mark.parametrize(
    ("language", "total", "small"),
    [("en", "1,673,488", "2.5"), ("fr", "1\u00a0673\u00a0488", "2,5"), ("nl", "1.673.488", "2,5")],
)
def test_chart_figures_follow_the_language(language, total, small):
    with translation.override(language):
        bars = horizontal_bars(title="Devices received by hub", rows=[("BE-BRU", 1673488), ("CD-FIH", 2.5)])
        months = monthly_bars(
            title="Devices received by month", months=["2025-01"], series=[Series("received", "bar-a", [1673488])]
        )
    assert f"<title>BE-BRU: {total}</title>" in bars and f">{total}</text>" in bars
    assert f"<title>CD-FIH: {small}</title>" in bars
    assert f"<title>2025-01 received: {total}</title>" in months


def test_the_month_axis_names_at_most_six_months_as_the_page_writes_them():
    names = [f"M{n} 2025" for n in range(24)]

    chart = monthly_bars(title="Devices received", months=names, series=[Series("received", "bar-a", [1] * 24)])

    axis = re.findall(r'class="chart-axis(?: chart-axis-minor)?" text-anchor="\w+">([^<]+)</text>', chart)
    assert axis == ["M0 2025", "M4 2025", "M8 2025", "M12 2025", "M16 2025", "M20 2025"]
    # On a phone, where the text is larger, three of them: every other one is marked minor (css hides those).
    assert re.findall(r'class="chart-axis" text-anchor="\w+">([^<]+)</text>', chart) == [
        "M0 2025",
        "M8 2025",
        "M16 2025",
    ]
