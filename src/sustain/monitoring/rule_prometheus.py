"""Threshold rules over a Prometheus server: the part of a cycle (rule_eval.run_cycle) that
evaluates the claimed rules with a `prometheus` source.

Each rule's expression is asked as an instant query at the cycle's time (prometheus_api, in a
small thread pool: the servers are waited on together, the database only from this thread).
Every element of the answer is one state, named by a digest of the rule and the element's
sorted labels (`PrometheusState.key`, also its alert's fingerprint), and stepped by rule_eval.step
with its value: the same hysteresis, for, keep-firing-for and no-data as for Sustain's series.

An element that is not in an answer steps with no value (no data after the rule's
`no_data_after_seconds`, by its `no_data` policy); one that stays ok and silent that long is
forgotten. A failed query (no answer, an HTTP error, Prometheus' `status: error`, a matrix)
is recorded on the rule (`last_error`) and steps every state with no value; a rule without any
state yet gets one for the query itself (no labels), so a server down from the start still
goes no-data. Signals go out through rule_eval.signal once the states are written.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from sustain.monitoring import prometheus_api
from sustain.monitoring.models import PrometheusSource, PrometheusState, ThresholdRule
from sustain.monitoring.prometheus_api import Answer

WORKERS = 8  # queries waited on at once


def split(rules: list[ThresholdRule]) -> tuple[list[ThresholdRule], list[ThresholdRule]]:
    """(the rules over a Prometheus server, the rules over Sustain's series)."""
    ours = [r for r in rules if r.prometheus_id is not None]
    return ours, [r for r in rules if r.prometheus_id is None]


def state_key(rule_id: int, labels: dict[str, str]) -> str:
    text = json.dumps([rule_id, sorted(labels.items())], separators=(",", ":"))
    return "prom-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def fetch(rules: list[ThresholdRule], now: datetime) -> dict[int, Answer]:
    """{rule id: its answer}: the sources read once here, the queries run in the pool."""
    sources = PrometheusSource.objects.in_bulk({r.prometheus_id for r in rules})
    jobs = [(r.pk, sources[r.prometheus_id], r.expression) for r in rules]  # type: ignore[index]
    if len(jobs) == 1:
        pk, source, expression = jobs[0]
        return {pk: prometheus_api.query(source, expression, now)}
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(jobs))) as pool:
        answers = pool.map(lambda job: prometheus_api.query(job[1], job[2], now), jobs)
        return {job[0]: answer for job, answer in zip(jobs, answers, strict=True)}


@dataclass
class Outcome:
    """What a cycle writes: the states to make, to save and to forget; the level changes."""

    new: list[PrometheusState] = field(default_factory=list)
    dirty: list[PrometheusState] = field(default_factory=list)
    gone: list[PrometheusState] = field(default_factory=list)
    changed: list[tuple[ThresholdRule, PrometheusState]] = field(default_factory=list)


def run(lease: str, rules: list[ThresholdRule], now: datetime) -> int:
    """Evaluate `rules` (claimed under `lease`) once; the number evaluated."""
    from sustain.monitoring import rule_eval  # rule_eval calls this module: imported late

    if not rules:
        return 0
    answers = fetch(rules, now)
    have: dict[int, dict[str, PrometheusState]] = {r.pk: {} for r in rules}
    for state in PrometheusState.objects.filter(rule__in=rules):
        have[state.rule_id][state.key] = state
    out = Outcome()
    for rule in rules:
        _evaluate(rule, answers[rule.pk], have[rule.pk], now, out)
    with transaction.atomic():
        PrometheusState.objects.bulk_create(out.new, batch_size=500)
        PrometheusState.objects.bulk_update(out.dirty, rule_eval.WRITTEN, batch_size=500)
        PrometheusState.objects.filter(pk__in=[s.pk for s in out.gone if s.pk is not None]).delete()
        for rule in rules:
            ThresholdRule.objects.filter(pk=rule.pk, lease=lease).update(
                lease="",
                leased_until=None,
                last_evaluated_at=now,
                next_eval_at=now + timedelta(seconds=rule.interval_seconds),
                last_error=answers[rule.pk].error,
            )
    for rule, state in out.changed:
        rule_eval.signal(rule, state, state.labels, now)  # type: ignore[arg-type]
    return len(rules)


def _evaluate(
    rule: ThresholdRule,
    answer: Answer,
    states: dict[str, PrometheusState],
    now: datetime,
    out: Outcome,
) -> None:
    """Step each state of `rule` with its element's value (none when it is missing)."""
    from sustain.monitoring import rule_eval

    values = {state_key(rule.pk, labels): (labels, value) for labels, value in answer.elements}
    if answer.error and not states:
        made = _state(rule, {}, now)
        states[made.key] = made
        out.new.append(made)
    for key, (labels, _value) in values.items():
        if key not in states:
            states[key] = _state(rule, labels, now)
            out.new.append(states[key])
    for key, state in states.items():
        level, present = state.level, key in values
        value = values[key][1] if present else None
        if value is not None:
            state.last_data_at = now
        rule_eval.step(rule, state, value, now)  # type: ignore[arg-type]  # RuleState's twin
        if present:  # a few states per rule: the value shown is kept fresh
            state.value, state.last_evaluated = value, now
        if not answer.error and not present and _forgotten(rule, state, now):
            out.gone.append(state)
            if level != PrometheusState.Level.OK:
                state.level = PrometheusState.Level.OK
                out.changed.append((rule, state))
            continue
        if state.level != level:
            out.changed.append((rule, state))
        if state.pk is not None:
            out.dirty.append(state)


def _state(rule: ThresholdRule, labels: dict[str, str], now: datetime) -> PrometheusState:
    return PrometheusState(
        rule=rule,
        key=state_key(rule.pk, labels),
        labels=prometheus_api.kept(labels),
        changed_at=now,
        last_data_at=now,
    )


def _forgotten(rule: ThresholdRule, state: PrometheusState, now: datetime) -> bool:
    """Out of a successful answer: the query's own state at once (it stood for a failure),
    any other once ok and silent past the no-data time."""
    if not state.labels:
        return True
    silent = state.last_data_at is None or now - state.last_data_at >= timedelta(
        seconds=rule.no_data_after_seconds
    )
    return silent and state.level == PrometheusState.Level.OK and state.pending_since is None
