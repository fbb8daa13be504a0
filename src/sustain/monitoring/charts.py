"""Metric charts as plotly figures: built here in Python, drawn in the browser by the plotly.js
that the plotly package ships (served from our own origin by core/package_static.py).

A page carries each figure as a JSON data block (`<script type="application/json">`, which the
Content-Security-Policy lets be since it never runs) beside an empty element, and our own
static/sustain/charts.js hands it to Plotly.newPlot: no inline script, nothing from elsewhere.

Figures are plain dicts in plotly's schema (`data`, `layout`), serialized by plotly.io without
building graph objects: those validate every property on every assignment, which cost more than
reading a month of rollups. tests/monitoring/test_charts.py hands each kind of figure to
`plotly.graph_objects.Figure`, which refuses any property plotly does not know.

`series_chart` is the one series' chart: its lines (p50/p95/p99 of a histogram from merged
buckets, a counter's rate, a gauge's average within its min-max band), the thresholds of the
rules that match it as dashed lines, the periods their alert fired as shaded bands, and the
deployments to its environment as marked lines with who deployed which release where.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import plotly.io
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sustain.monitoring import chart_data, chart_overlays
from sustain.monitoring.chart_data import Lines
from sustain.monitoring.models import Series

# The stylesheet's colours: lines, warning, critical, deployments.
LINE_COLORS = {"p50": "#5b8def", "p95": "#1d4ed8", "p99": "#172554", "rate": "#1d4ed8"}
PALETTE = ("#1d4ed8", "#067647", "#b54708", "#7a2e98", "#0e7490", "#b42318", "#475467")
WARNING = "#dc6803"
CRITICAL = "#b42318"
DEPLOYED = "#067647"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
_ids = itertools.count(1)


def _x(times: Sequence[int], zone: tzinfo) -> list[str]:
    """ms since the epoch as the viewer's wall-clock time (plotly draws dates as given)."""
    return [
        datetime.fromtimestamp(t / 1000, tz=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        for t in times
    ]


def _at(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


Figure = dict[str, Any]


def figure(layout: dict[str, Any], data: list[dict[str, Any]] | None = None) -> Figure:
    return {"data": data or [], "layout": {"shapes": [], "annotations": [], **layout}}


def _layout(title: str, unit: str, height: int, start: int, end: int, zone: tzinfo):
    return {
        "title": {"text": title, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 48, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#1d2330"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.15},
        "xaxis": {"type": "date", "range": _x([start, end], zone), "gridcolor": "#dde1e8"},
        "yaxis": {"title": {"text": unit}, "gridcolor": "#dde1e8", "rangemode": "tozero"},
        # Deployments' markers sit on a hidden axis of their own, along the top.
        "yaxis2": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
    }


def scatter(**props: Any) -> dict[str, Any]:
    return {"type": "scatter", **props}


def unit_label(series: Series) -> str:
    if series.kind == Series.Kind.COUNTER:
        return f"{series.unit or 'events'} per second"
    return series.unit


NAMES = {"avg": "average"}


def _line_traces(lines: Lines, zone: tzinfo, only: str = "") -> list[Any]:
    x = _x(lines.times, zone)
    if only:
        return [
            scatter(
                x=x,
                y=lines.values.get(only, []),
                name=NAMES.get(only, only),
                mode="lines",
                line={"color": LINE_COLORS.get(only, PALETTE[0]), "width": 2},
            )
        ]
    if lines.kind == Series.Kind.HISTOGRAM:
        return [
            scatter(
                x=x,
                y=lines.values.get(name, []),
                name=name,
                mode="lines",
                line={"color": LINE_COLORS[name], "width": 2 if name == "p95" else 1.5},
                connectgaps=False,
            )
            for name, _q in chart_data.QUANTILES
        ]
    if lines.kind == Series.Kind.COUNTER:
        return [
            scatter(
                x=x,
                y=lines.values.get("rate", []),
                name="rate",
                mode="lines",
                line={"color": LINE_COLORS["rate"], "width": 2},
            )
        ]
    band = {"width": 0}
    return [
        scatter(x=x, y=lines.values.get("max", []), name="max", mode="lines", line=band,
                   showlegend=False, hoverinfo="skip"),
        scatter(x=x, y=lines.values.get("min", []), name="min–max", mode="lines", line=band,
                   fill="tonexty", fillcolor="rgba(29,78,216,0.12)", hoverinfo="skip"),
        scatter(x=x, y=lines.values.get("avg", []), name="average", mode="lines",
                   line={"color": LINE_COLORS["rate"], "width": 2}),
    ]  # fmt: skip


def _color(level: str) -> str:
    return CRITICAL if level == "critical" else WARNING


def add_thresholds(fig: Figure, found: list[chart_overlays.Threshold]) -> None:
    for t in found:
        line = {"color": _color(t.level), "dash": "dash"}
        fig["layout"]["shapes"].append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": t.value,
                "y1": t.value,
                "line": line,
                "name": t.label,
            }
        )
        fig["layout"]["annotations"].append(
            {"xref": "paper", "x": 0, "y": t.value, "text": t.label, "showarrow": False,
             "xanchor": "left", "yanchor": "bottom",
             "font": {"size": 11, "color": _color(t.level)}}
        )  # fmt: skip


def add_firing(fig: Figure, found: list[chart_overlays.Firing], end: int, zone) -> None:
    for f in found:
        stop = f.end or datetime.fromtimestamp(end / 1000, tz=UTC)
        x0, x1 = _at(f.start, zone), _at(stop, zone)
        fig["layout"]["shapes"].append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": x0,
                "x1": x1,
                "y0": 0,
                "y1": 1,
                "fillcolor": _color(f.severity),
                "opacity": 0.14,
                "line": {"width": 0},
                "layer": "below",
                "name": f"{f.rule} firing",
            }
        )
        fig["layout"]["annotations"].append(
            {"x": x0, "yref": "paper", "y": 1, "text": f"{f.rule} firing", "showarrow": False,
             "xanchor": "left", "yanchor": "top",
             "font": {"size": 10, "color": _color(f.severity)}}
        )  # fmt: skip


def add_deployments(fig: Figure, found: list[chart_overlays.Deployed], zone) -> None:
    if not found:
        return
    for d in found:
        x = _at(d.at, zone)
        fig["layout"]["shapes"].append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
             "line": {"color": DEPLOYED, "width": 1.5, "dash": "dot"}, "name": d.label}
        )  # fmt: skip
    fig["data"].append(
        scatter(
            x=[_at(d.at, zone) for d in found],
            y=[0.97] * len(found),
            yaxis="y2",
            name="deployments",
            mode="markers+text",
            marker={"symbol": "triangle-down", "size": 11, "color": DEPLOYED},
            text=[d.release.rsplit(" ", 1)[-1] for d in found],
            textposition="middle right",
            textfont={"size": 10, "color": DEPLOYED},
            hovertext=[f"{d.label}, {_at(d.at, zone)}" for d in found],
            hoverinfo="text",
        )
    )


def series_chart(
    series: Series,
    user: Any,
    start: int,
    end: int,
    *,
    height: int = 380,
    only: str = "",
    title: str = "",
    zone=None,
) -> tuple[Figure, Lines]:
    """The chart of one series over [start, end) (ms), with its overlays, for `user`; `only`
    one of its lines (p95, rate, avg …) when given."""
    zone = zone or timezone.get_current_timezone()
    lines = chart_data.read([series], start, end)
    fig = figure(
        _layout(title or series_title(series), unit_label(series), height, start, end, zone),
        _line_traces(lines, zone, only),
    )
    rules = chart_overlays.rules_for(series, user)
    add_thresholds(fig, chart_overlays.thresholds(rules))
    add_firing(fig, chart_overlays.firing_periods(series, rules, user, start, end), end, zone)
    add_deployments(fig, chart_overlays.deployments(series, user, start, end), zone)
    return fig, lines


def series_title(series: Series) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(series.labels.items()))
    return f"{series.name}{{{labels}}}" if labels else series.name


def lines_chart(
    title: str,
    lines: dict[str, list[tuple[int, float | None]]],
    unit: str,
    start: int,
    end: int,
    *,
    height: int = 280,
    percent: bool = False,
    zone=None,
) -> Figure:
    """A chart of named lines ((ms, value) pairs each) over [start, end)."""
    zone = zone or timezone.get_current_timezone()
    fig = figure(_layout(title, unit, height, start, end, zone))
    for i, (name, points) in enumerate(lines.items()):
        fig["data"].append(
            scatter(
                x=_x([t for t, _v in points], zone),
                y=[v for _t, v in points],
                name=name,
                mode="lines",
                line={"color": LINE_COLORS.get(name, PALETTE[i % len(PALETTE)]), "width": 2},
            )
        )
    if percent:
        fig["layout"]["yaxis"]["tickformat"] = ".1%"
    return fig


def bars_chart(title: str, labels: list[str], values: list[float], unit: str) -> Figure:
    """A horizontal bar per label (the greatest on top)."""
    bar = {
        "type": "bar",
        "x": values[::-1],
        "y": labels[::-1],
        "orientation": "h",
        "marker": {"color": PALETTE[0]},
        "hovertemplate": "%{y}: %{x:.4g} " + unit + "<extra></extra>",
    }
    layout = {
        "title": {"text": title, "font": {"size": 15}},
        "height": max(160, 40 + 28 * len(labels)),
        "margin": {"l": 160, "r": 20, "t": 40, "b": 30},
        "font": {"family": FONT, "size": 12, "color": "#1d2330"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"title": {"text": unit}, "gridcolor": "#dde1e8"},
    }
    return figure(layout, [bar])


def to_json(fig: Figure) -> str:
    """plotly's own encoder (NaN and infinities as null, as plotly.js reads them)."""
    return plotly.io.to_json(fig, validate=False)


def embed(fig: Figure, label: str) -> SafeString:
    """The figure as an element for charts.js and its JSON data block (escaped for HTML)."""
    element = f"chart-{next(_ids)}"
    data = to_json(fig).translate(JSON_ESCAPES)
    return format_html(
        '<div class="chart" data-chart="{id}" role="img" aria-label="{label}"></div>'
        '<script type="application/json" id="{id}">{data}</script>',
        id=element,
        label=label,
        data=mark_safe(data),  # JSON with <, > and & escaped: it cannot close the element
    )
