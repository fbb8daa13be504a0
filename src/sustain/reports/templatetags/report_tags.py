"""Numbers of the reports in words: a share as a percentage, seconds as a duration."""

from __future__ import annotations

from django import template

from sustain.sla.models import Metric

register = template.Library()
METRIC_LABELS = dict(Metric.choices)


@register.filter
def metric_label(metric: str) -> str:
    """'first_response' → 'First Response'."""
    return str(METRIC_LABELS.get(metric, metric))


@register.filter
def percent(share: float | None) -> str:
    """0.9333 → '93.3 %'; None (nothing decided yet) → '—'."""
    if share is None:
        return "—"
    return f"{share * 100:.1f} %".replace(".0 %", " %")


@register.filter
def duration(seconds: float | None) -> str:
    """5400 → '1 h 30 min', 200000 → '2 d 7 h'; the two largest units."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "< 1 min"


@register.filter
def hours(value: float | None) -> str:
    """Business hours with one decimal: 1.25 → '1.3 h'."""
    return "—" if value is None else f"{value:.1f} h"
