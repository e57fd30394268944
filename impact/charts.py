"""Small, accessible SVG charts rendered on the server: no JavaScript library, a few KB per chart.

Each function returns SVG markup safe to embed inline; every bar carries a <title> so screen readers and a
hover show the exact figure, and the figures are also in a table on the page.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Series:
    label: str
    css_class: str  # colours live in the stylesheet, so charts follow the site's theme
    values: Sequence[float]


def _fmt(value: float) -> str:
    # In the active language's notation: 1,673,488 in English, 1 673 488 in French, 1.673.488 in Dutch.
    decimals = 0 if value >= 10 or float(value).is_integer() else 1
    return number_format(round(value, decimals), decimals, force_grouping=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


# About one character of the label font at its phone size (20px in viewBox units, css/site.css): the 640-unit
# charts shrink to about 350 px on a phone, where 16 units were 8 px; 20 units stay about 11 px.
LABEL_CHAR_W = 11.5
LABEL_MAX_CHARS = 28
AXIS_LABELS = 6  # month names along a monthly chart's axis: "nov. 2025" takes about 80 of its 640 units


def _short(label: str, limit: int = LABEL_MAX_CHARS) -> str:
    # A longer name would run under its bar; the bar's <title> and the table keep it whole.
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def _scale_max(values: Sequence[float]) -> float:
    top = max(values, default=0) or 1
    return float(top)


def monthly_bars(*, title: str, months: Sequence[str], series: Sequence[Series], height: int = 160) -> SafeString:
    """Grouped vertical bars, one group per month (e.g. received and delivered); ``months`` are the months' names
    as the page writes them, shown along the axis and in each bar's title."""
    width = 640
    pad_left, pad_bottom, pad_top = 8, 22, 8
    plot_h = height - pad_bottom - pad_top
    groups = max(len(months), 1)
    group_w = (width - pad_left) / groups
    bar_w = max(group_w / (len(series) + 1), 1.0)
    top = _scale_max([v for s in series for v in s.values])
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">',
            width,
            height,
            title,
        ),
        format_html("<title>{}</title>", title),
    ]
    for m, month in enumerate(months):
        x0 = pad_left + m * group_w + bar_w / 2
        for s, one in enumerate(series):
            value = float(one.values[m]) if m < len(one.values) else 0.0
            h = plot_h * value / top
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>',
                    one.css_class,
                    _n(x0 + s * bar_w),
                    _n(pad_top + plot_h - h),
                    _n(bar_w * 0.9),
                    _n(h),
                    month,
                    one.label,
                    _fmt(value),
                )
            )
        # At most AXIS_LABELS month names ("Nov 2025", "nov. 2025") along the axis, so they never overlap; on a
        # phone, where the text is larger, every other one of them (chart-axis-minor) is left out.
        step = math.ceil(groups / AXIS_LABELS)
        if m % step == 0:
            css = "chart-axis chart-axis-minor" if (m // step) % 2 else "chart-axis"
            # A name near the right edge ends there, rather than running off the chart.
            anchor = "end" if x0 > width * 0.85 else "start"
            x = min(x0, width - 2) if anchor == "end" else x0
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="{}" text-anchor="{}">{}</text>', _n(x), height - 6, css, anchor, month
                )
            )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def horizontal_bars(*, title: str, rows: Sequence[tuple[str, float]], css_class: str = "bar-a") -> SafeString:
    """One labelled bar per row (by hub, by project kind)."""
    row_h, width = 30, 640
    # The label column fits the longest (shortened) label, so bars keep as much room as the names allow.
    longest = max((len(_short(label)) for label, _ in rows), default=0)
    label_w = min(max(longest * LABEL_CHAR_W + 12, 90), LABEL_MAX_CHARS * LABEL_CHAR_W + 12)
    height = row_h * max(len(rows), 1) + 4
    top = _scale_max([v for _, v in rows])
    parts = [
        format_html('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">', width, height, title),
        format_html("<title>{}</title>", title),
    ]
    for i, (label, value) in enumerate(rows):
        y = 2 + i * row_h
        w = (width - label_w - 90) * float(value) / top
        parts.append(
            format_html(
                '<text x="0" y="{}" class="chart-label">{}</text>'
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" class="chart-value">{}</text>',
                y + 21,
                _short(label),
                css_class,
                label_w,
                y + 4,
                _n(w),
                row_h - 8,
                label,
                _fmt(float(value)),
                _n(label_w + w + 6),
                y + 21,
                _fmt(float(value)),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def legend(series: Sequence[Series]) -> SafeString:
    items = "".join(
        f'<li><span class="swatch {escape(s.css_class)}" aria-hidden="true"></span>{escape(s.label)}</li>'
        for s in series
    )
    return mark_safe(f'<ul class="chart-legend">{items}</ul>')
