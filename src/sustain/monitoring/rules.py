"""Threshold rules: set-up (create, change, pause, resume, delete), each checked whole before
anything is written. Evaluating them is rule_eval's.

Matchers are Prometheus' (=, !=, =~, !~) on one label each; regexes are bounded in length and
compiled here, so a bad one is refused naming `matchers` rather than failing a cycle.

A rule reads Sustain's series (a metric and matchers, over a window by an aggregation) or a
Prometheus server (a `prometheus` source of the rule's organization and a PromQL
`expression`): exactly one of the two. The expression is only bounded here; Prometheus itself
judges it, and its error shows on the rule (`last_error`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.monitoring import rule_eval
from sustain.monitoring.models import (
    PrometheusSource,
    PrometheusState,
    RuleState,
    Source,
    ThresholdRule,
)

NAME_MAX, METRIC_MAX, EXPRESSION_MAX = 200, 200, 2000
MATCHERS_MAX, LABEL_MAX, VALUE_MAX = 10, 100, 200
WINDOW_MIN, WINDOW_MAX = 60, 86400
INTERVAL_MIN, INTERVAL_MAX = 60, 3600
FOR_MAX = KEEP_MAX = 86400
NO_DATA_MIN, NO_DATA_MAX = 60, 7 * 86400
OPS = ("=", "!=", "=~", "!~")
Rule = ThresholdRule
SETTINGS = (
    "name",
    "metric",
    "matchers",
    "window_seconds",
    "aggregation",
    "comparison",
    "warning",
    "critical",
    "warning_recovery",
    "critical_recovery",
    "for_seconds",
    "keep_firing_for_seconds",
    "no_data",
    "no_data_after_seconds",
    "interval_seconds",
    "prometheus",
    "expression",
)
DEFAULTS: dict[str, Any] = {
    "metric": "",
    "matchers": [],
    "prometheus": None,
    "expression": "",
    "window_seconds": 300,
    "aggregation": Rule.Aggregation.AVG,
    "comparison": Rule.Comparison.ABOVE,
    "warning": None,
    "critical": None,
    "warning_recovery": None,
    "critical_recovery": None,
    "for_seconds": 0,
    "keep_firing_for_seconds": 0,
    "no_data": Rule.NoData.KEEP,
    "no_data_after_seconds": 600,
    "interval_seconds": 60,
}


def _check(actor: User, organization: Organization) -> None:
    if not (actor.is_manager or actor.is_admin):
        raise Forbidden("Only managers and administrators may change monitoring.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")


def _whole(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number from {low} to {high}.", field=field)
    return value


def _number(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise Invalid(f"{field} must be a number.", field=field)
    if abs(value) > 1e300:
        raise Invalid(f"{field} must be a finite number.", field=field)
    return float(value)


def _text(field: str, value: Any, most: int) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= most:
        raise Invalid(f"{field} must be text of 1 to {most} characters.", field=field)
    return value.strip()


def _choice(field: str, value: Any, choices: list[str]) -> str:
    if value not in choices:
        raise Invalid(f"{field} must be one of {', '.join(choices)}.", field=field)
    return str(value)


def check_matchers(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MATCHERS_MAX:
        raise Invalid(f"matchers must be a list of at most {MATCHERS_MAX}.", field="matchers")
    out = []
    for m in value:
        if not isinstance(m, dict) or set(m) != {"label", "op", "value"}:
            raise Invalid('Each matcher is {"label", "op", "value"}.', field="matchers")
        label, op, text = m["label"], m["op"], m["value"]
        if not isinstance(label, str) or not 0 < len(label) <= LABEL_MAX:
            raise Invalid(f"A matcher's label has 1 to {LABEL_MAX} characters.", field="matchers")
        if op not in OPS:
            raise Invalid(f"A matcher's op is one of {', '.join(OPS)}.", field="matchers")
        if not isinstance(text, str) or len(text) > VALUE_MAX:
            raise Invalid(
                f"A matcher's value has at most {VALUE_MAX} characters.", field="matchers"
            )
        if op in ("=~", "!~"):
            try:
                re.compile(text)
            except re.error as exc:
                raise Invalid(f"A matcher's regex is not valid: {exc}.", field="matchers") from None
        out.append({"label": label, "op": op, "value": text})
    return out


def _safe_side(v: dict[str, Any], level: str) -> None:
    """A recovery threshold lies on the safe side of its threshold (equal: no hysteresis)."""
    threshold, back = v[level], v[f"{level}_recovery"]
    field = f"{level}_recovery"
    if back is None:
        return
    if threshold is None:
        raise Invalid(f"{field} needs a {level} threshold.", field=field)
    above = v["comparison"] == Rule.Comparison.ABOVE
    if (above and back > threshold) or (not above and back < threshold):
        side = "at or below" if above else "at or above"
        raise Invalid(f"{field} must be {side} the {level} threshold.", field=field)


def _data_source(v: dict[str, Any]) -> None:
    """Sustain's series (metric, matchers) or a Prometheus server (source, expression)."""
    expression, metric = v.get("expression") or "", v.get("metric") or ""
    if v.get("prometheus") is None and not (isinstance(expression, str) and expression.strip()):
        if not metric:
            raise Invalid(
                "Give a metric (the series' name), or a prometheus source and an expression.",
                field="metric",
            )
        v["metric"] = _text("metric", metric, METRIC_MAX)
        v["matchers"] = check_matchers(v.get("matchers"))
        v["expression"] = ""
        return
    if metric or v.get("matchers"):
        field = "metric" if metric else "matchers"
        raise Invalid(
            f"A rule reads Sustain's series or a Prometheus expression, not both: leave {field} "
            "empty.",
            field=field,
        )
    if not isinstance(v.get("prometheus"), PrometheusSource):
        raise Invalid("An expression needs the prometheus source to ask.", field="prometheus")
    v["expression"] = check_expression(expression)
    v["metric"], v["matchers"] = "", []


def check_expression(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= EXPRESSION_MAX:
        raise Invalid(
            f"expression must be PromQL of 1 to {EXPRESSION_MAX} characters.", field="expression"
        )
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise Invalid("expression may not hold control characters.", field="expression")
    return value.strip()


def _same_organization(values: dict[str, Any], organization: Organization) -> None:
    source = values.get("prometheus")
    if source is not None and source.organization_id != organization.pk:
        raise Invalid("This Prometheus source belongs to another customer.", field="prometheus")


def checked(values: dict[str, Any]) -> dict[str, Any]:
    """Every setting of a rule, checked together; what to store."""
    v = dict(values)
    v["name"] = _text("name", values.get("name"), NAME_MAX)
    _data_source(v)
    _whole("window_seconds", v["window_seconds"], WINDOW_MIN, WINDOW_MAX)
    _whole("interval_seconds", v["interval_seconds"], INTERVAL_MIN, INTERVAL_MAX)
    _whole("for_seconds", v["for_seconds"], 0, FOR_MAX)
    _whole("keep_firing_for_seconds", v["keep_firing_for_seconds"], 0, KEEP_MAX)
    _whole("no_data_after_seconds", v["no_data_after_seconds"], NO_DATA_MIN, NO_DATA_MAX)
    _choice("aggregation", v["aggregation"], Rule.Aggregation.values)
    _choice("comparison", v["comparison"], Rule.Comparison.values)
    _choice("no_data", v["no_data"], Rule.NoData.values)
    for field in ("warning", "critical", "warning_recovery", "critical_recovery"):
        v[field] = _number(field, v.get(field))
    if v["warning"] is None and v["critical"] is None:
        raise Invalid("Give a warning or a critical threshold (or both).", field="critical")
    if v["warning"] is not None and v["critical"] is not None:
        above = v["comparison"] == Rule.Comparison.ABOVE
        if (above and v["warning"] >= v["critical"]) or (
            not above and v["warning"] <= v["critical"]
        ):
            word = "below" if above else "above"
            raise Invalid(f"warning must be {word} the critical threshold.", field="warning")
    _safe_side(v, "warning")
    _safe_side(v, "critical")
    return v


def create_rule(
    actor: User, organization: Organization, *, now: datetime | None = None, **settings: Any
) -> ThresholdRule:
    """A rule for `organization`, with its own source; evaluated from the next cycle on."""
    _check(actor, organization)
    refuse_unknown(settings, SETTINGS, "Unknown rule field: {names}.")
    values = checked({**DEFAULTS, **settings})
    _same_organization(values, organization)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            source = Source.objects.create(
                organization=organization, name=values["name"], kind=Source.Kind.RULE
            )
            rule = ThresholdRule.objects.create(
                organization=organization, source=source, next_eval_at=now, **values
            )
            events.record(rule, "created", actor=actor, after={"name": rule.name})
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a rule named {values['name']}.", field="name"
        ) from None
    return rule


def update_rule(
    actor: User, rule: ThresholdRule, changes: dict[str, Any], now: datetime | None = None
) -> ThresholdRule:
    """Change a rule's settings; the states stay, judged by the new settings next cycle."""
    _check(actor, rule.organization)
    refuse_unknown(changes, SETTINGS, "Unknown rule field: {names}.")
    fresh = ThresholdRule.objects.get(pk=rule.pk)
    values = checked({**{k: getattr(fresh, k) for k in SETTINGS}, **changes})
    _same_organization(values, rule.organization)
    now = now or timezone.now()
    # Another kind of data, or another question to Prometheus: the old states mean nothing
    # now (an element the new expression never returns would otherwise keep its level).
    switched = (fresh.prometheus_id is None) != (values["prometheus"] is None) or (
        fresh.prometheus_id is not None
        and (fresh.expression, fresh.prometheus) != (values["expression"], values["prometheus"])
    )
    try:
        with transaction.atomic():
            (rule,) = locked_all(ThresholdRule.objects.filter(pk=rule.pk).select_related("source"))
            for key in set(changes) | {"metric", "matchers", "expression"}:
                setattr(rule, key, values[key])
            if switched:
                _forget_states(rule, now)
                rule.last_error = ""
            if not rule.paused:
                rule.next_eval_at = now
            rule.save()
            Source.objects.filter(pk=rule.source_id).update(name=rule.name)
            events.record(rule, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(f"A rule named {values['name']} exists already.", field="name") from None
    return rule


def pause_rule(actor: User, rule: ThresholdRule, now: datetime | None = None) -> ThresholdRule:
    """Not evaluated until resumed; its firing alerts are resolved and its states forgotten."""
    _check(actor, rule.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (rule,) = locked_all(ThresholdRule.objects.filter(pk=rule.pk).select_related("source"))
        if rule.paused:
            return rule
        rule.paused, rule.next_eval_at, rule.lease, rule.leased_until = True, None, "", None
        rule.save()
        _forget_states(rule, now)
        rule.last_error = ""
        rule.save(update_fields=["last_error"])
        events.record(rule, "paused", actor=actor)
    return rule


def _forget_states(rule: ThresholdRule, now: datetime) -> None:
    """The firing states resolved (their alerts too), then every state deleted."""
    for model in (RuleState, PrometheusState):
        for state in model.objects.filter(rule=rule).exclude(level=RuleState.Level.OK):
            state.level = RuleState.Level.OK
            rule_eval.signal(rule, state, {}, now)  # type: ignore[arg-type]
        model.objects.filter(rule=rule).delete()


def resume_rule(actor: User, rule: ThresholdRule, now: datetime | None = None) -> ThresholdRule:
    _check(actor, rule.organization)
    with transaction.atomic():
        (rule,) = locked_all(ThresholdRule.objects.filter(pk=rule.pk))
        if rule.paused:
            rule.paused, rule.next_eval_at = False, now or timezone.now()
            rule.save(update_fields=["paused", "next_eval_at"])
            events.record(rule, "resumed", actor=actor)
    return rule


def delete_rule(actor: User, rule: ThresholdRule) -> None:
    """The rule, its states and its source (with its alerts) go; incidents stay."""
    _check(actor, rule.organization)
    with transaction.atomic():
        events.record(rule, "deleted", actor=actor, before={"name": rule.name})
        Source.objects.filter(pk=rule.source_id).delete()
