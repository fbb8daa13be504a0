"""Threshold rules of the security suite's world: one active and one paused rule of each
customer over its series, evaluated once (so each has a state), and a Prometheus source of
each customer (no rule reads it, so it may be deleted; its address is refused by the outbound
guard at once, so testing it writes the failure without waiting). Path parameters find them by
name (surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.monitoring import prometheus_sources, rule_eval, rules
from sustain.monitoring.models import PrometheusSource, ThresholdRule
from tests.security import world_series


def name(slug: str, paused: bool = False) -> str:
    return f"{slug}-{'paused-' if paused else ''}rule-7731"


def rule(slug: str, paused: bool = False) -> ThresholdRule:
    return ThresholdRule.objects.get(name=name(slug, paused))


def prometheus_name(slug: str) -> str:
    return f"{slug}-prometheus-7731"


def prometheus(slug: str) -> PrometheusSource:
    return PrometheusSource.objects.get(name=prometheus_name(slug))


def build_rules(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import org, text_marker

    for slug, side in sides.items():
        for paused in (False, True):
            made = rules.create_rule(
                base.root,
                side.org,
                name=name(slug, paused),
                metric=world_series.name(slug),
                critical=1e9,
                window_seconds=86400,
            )
            if paused:
                rules.pause_rule(base.root, made)
        markers.append(text_marker(f"{slug} threshold rule", name(slug), org(slug)))
        markers.append(text_marker(f"{slug} paused rule", name(slug, True), org(slug)))
        prometheus_sources.create_source(
            base.root,
            side.org,
            name=prometheus_name(slug),
            base_url="http://127.0.0.1:9",
            bearer_token=f"zz-{slug}-bearer-7731",
        )
        markers.append(text_marker(f"{slug} prometheus source", prometheus_name(slug), org(slug)))
    rule_eval.run_cycle()
