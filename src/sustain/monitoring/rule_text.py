"""A threshold rule in words, for its page: where its values come from, its thresholds with
their recovery thresholds, the for-duration, keep-firing-for and the no-data policy."""

from __future__ import annotations

from sustain.monitoring.models import ThresholdRule


def duration(seconds: int) -> str:
    """60 → "1 min", 90 → "90 s", 7200 → "2 h"."""
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def selector(rule: ThresholdRule) -> str:
    """Prometheus' notation: cpu{host="web1",env=~"prod.*"}."""
    inside = ",".join(f'{m["label"]}{m["op"]}"{m["value"]}"' for m in rule.matchers)
    return f"{rule.metric}{{{inside}}}" if inside else rule.metric


def _threshold(rule: ThresholdRule, level: str) -> str | None:
    value = getattr(rule, level)
    if value is None:
        return None
    above = rule.comparison == ThresholdRule.Comparison.ABOVE
    back = getattr(rule, f"{level}_recovery")
    back = value if back is None else back
    clears = f"clears at or {'below' if above else 'above'} {back:g}"
    return f"{level} {'above' if above else 'below'} {value:g} ({clears})"


def describe(rule: ThresholdRule) -> list[tuple[str, str]]:
    """(term, words) pairs, in the order a reader needs them."""
    if rule.prometheus_id is not None:
        data = f"the PromQL below, asked of Prometheus “{rule.prometheus}” as an instant query"
    else:
        name = ThresholdRule.Aggregation(rule.aggregation).label.lower()
        data = f"the {name} over {duration(rule.window_seconds)} of each series {selector(rule)}"
    thresholds = [t for t in (_threshold(rule, "warning"), _threshold(rule, "critical")) if t]
    policy = {
        ThresholdRule.NoData.ALERT: "alerts (no data)",
        ThresholdRule.NoData.OK: "turns ok",
        ThresholdRule.NoData.KEEP: "keeps its last state",
    }[ThresholdRule.NoData(rule.no_data)]
    return [
        ("Values", data),
        ("Thresholds", "; ".join(thresholds)),
        (
            "Fires",
            f"after {duration(rule.for_seconds)} past a threshold"
            if rule.for_seconds
            else "at the first evaluation past a threshold",
        ),
        (
            "Clears",
            f"{duration(rule.keep_firing_for_seconds)} after its recovery threshold is passed"
            if rule.keep_firing_for_seconds
            else "as soon as its recovery threshold is passed",
        ),
        ("No data", f"after {duration(rule.no_data_after_seconds)} without data it {policy}"),
        ("Evaluated", f"every {duration(rule.interval_seconds)}"),
    ]
