"""Threshold rules evaluated: one cycle claims the due rules, matches their series, computes
every window value set-based and steps each (rule, series) state machine, raising, updating
and resolving alerts through `alerts.receive`.

Set-based: a cycle's queries do not grow with the number of rules: one claim (a conditional
UPDATE) and the read of its rules, one read of the series sets' versions (rule_match keeps the
matching until a metric's series change), one or a few statements per aggregation kind over
the 1-minute rollups and the raw tail (rule_windows, per chunk of series), one read of the
states as plain tuples (and the last sample times of the few that are not quiet), the changed
states written with one executemany, one release per distinct interval; only
alerts whose level changed cost more.

A state that is ok, with nothing pending or kept, whose value breaches neither threshold is
left as it is without building anything: what `step` would answer, at a fraction of its
cost, for the 100,000 quiet states of a steady cycle. Every other state goes through `step`.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from sustain.monitoring import alerts, rule_prometheus, rule_windows
from sustain.monitoring.models import (
    Alert,
    RuleState,
    Series,
    Source,
    ThresholdRule,
)
from sustain.monitoring.rule_match import matched as _matched
from sustain.monitoring.rule_match import matches
from sustain.monitoring.rule_windows import merged_quantile, value_quantile, window_values

__all__ = [
    "claim",
    "fingerprint",
    "matches",
    "merged_quantile",
    "run_cycle",
    "signal",
    "step",
    "value_quantile",
    "window_values",
]

CHUNK = 2000  # rows per executemany batch
LEASE = timedelta(minutes=5)
Level = RuleState.Level
RANK: dict[str, int] = {Level.OK: 0, Level.NODATA: 1, Level.WARNING: 2, Level.CRITICAL: 3}
Matched = dict[int, list[tuple[int, dict[str, Any]]]]


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


class StateRow:
    """A RuleState's columns as a plain object (what `step` reads and sets), made from one
    row of a raw read: no model instance, no converters for the states nobody changes."""

    __slots__ = (
        "changed_at",
        "keep_until",
        "last_data_at",
        "last_evaluated",
        "level",
        "pending_since",
        "pk",
        "rule_id",
        "series_id",
        "value",
    )

    def __init__(self, *row: Any) -> None:
        pk, rule_id, series_id, level, pending, keep, value, changed = row
        self.pk, self.rule_id, self.series_id, self.level = pk, rule_id, series_id, level
        self.pending_since, self.keep_until = _dt(pending), _dt(keep)
        self.value, self.changed_at = value, _dt(changed)
        self.last_data_at: datetime | None = None
        self.last_evaluated = None


def _dt(value: Any) -> Any:
    """A datetime column as read raw: text (SQLite's naive UTC, PostgreSQL's with its
    offset) or a datetime (naive on SQLite: UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# --- the state machine ------------------------------------------------------------------------
def _breach(rule: ThresholdRule, value: float, threshold: float | None) -> bool:
    if threshold is None:
        return False
    return value > threshold if rule.comparison == "above" else value < threshold


def _recovered(rule: ThresholdRule, value: float, threshold: float | None) -> bool:
    """Past the recovery threshold, on the safe side (a missing one: the threshold itself)."""
    if threshold is None:
        return True
    return value <= threshold if rule.comparison == "above" else value >= threshold


def target_level(rule: ThresholdRule, level: str, value: float) -> str:
    """The level `value` calls for, from `level`: a firing level holds until recovered."""
    if _breach(rule, value, rule.critical):
        return Level.CRITICAL
    crit_back = rule.critical if rule.critical_recovery is None else rule.critical_recovery
    if level == Level.CRITICAL and not _recovered(rule, value, crit_back):
        return Level.CRITICAL
    if _breach(rule, value, rule.warning):
        return Level.WARNING
    warn_back = rule.warning if rule.warning_recovery is None else rule.warning_recovery
    if (
        level in (Level.CRITICAL, Level.WARNING)
        and rule.warning is not None
        and not _recovered(rule, value, warn_back)
    ):
        return Level.WARNING
    return Level.OK


def step(
    rule: ThresholdRule, state: RuleState | StateRow, value: float | None, now: datetime
) -> bool:
    """Advance one state to `now` with the window's `value` (None: no points); True when it
    changed (level, pending or kept), the only states a cycle writes. `last_data_at` is the
    series' last sample (or when the state was made, if later): set by the cycle."""
    before = (state.level, state.pending_since, state.keep_until)
    if value is None:
        silent = state.last_data_at is None or now - state.last_data_at >= timedelta(
            seconds=rule.no_data_after_seconds
        )
        state.pending_since = state.keep_until = None
        if silent and rule.no_data != ThresholdRule.NoData.KEEP:
            state.level = Level.NODATA if rule.no_data == ThresholdRule.NoData.ALERT else Level.OK
    else:
        current = Level.OK if state.level == Level.NODATA else state.level
        wanted = target_level(rule, current, value)
        if state.level == Level.NODATA and wanted == Level.OK:
            state.level = Level.OK  # data again: no-data clears at once
        elif RANK[wanted] > RANK[current]:
            state.keep_until = None
            state.pending_since = state.pending_since or now
            if now - state.pending_since >= timedelta(seconds=rule.for_seconds):
                state.level, state.pending_since = wanted, None
        elif RANK[wanted] < RANK[current]:
            state.pending_since = None
            state.keep_until = state.keep_until or now + timedelta(
                seconds=rule.keep_firing_for_seconds
            )
            if now >= state.keep_until:
                state.level, state.keep_until = wanted, None
        else:
            state.pending_since = state.keep_until = None
            if state.level == Level.NODATA:
                state.level = wanted
    if (state.level, state.pending_since, state.keep_until) == before:
        return False
    state.value, state.last_evaluated = value, now
    if state.level != before[0]:
        state.changed_at = now
    return True


def _latest(made: datetime, last: datetime | None) -> datetime:
    return made if last is None else max(made, last)


def _quiet_test(rule: ThresholdRule) -> tuple[bool, float | None]:
    """(above, trip): a value on the safe side of `trip` breaches neither threshold."""
    limits = [t for t in (rule.warning, rule.critical) if t is not None]
    above = rule.comparison == ThresholdRule.Comparison.ABOVE
    if not limits:
        return above, None
    return above, (min(limits) if above else max(limits))


# --- the cycle --------------------------------------------------------------------------------
def claim(now: datetime, limit: int = 100_000) -> tuple[str, list[ThresholdRule]]:
    """Lease the due rules for this worker: one conditional UPDATE (the due condition checked
    again on each row it takes, so two workers never both take one), then read back its own."""
    lease = uuid.uuid4().hex
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    due = ThresholdRule.objects.filter(free, next_eval_at__lte=now, paused=False)
    first = due.order_by("next_eval_at").values("id")[:limit]
    claimed = (
        ThresholdRule.objects.filter(free, pk__in=Subquery(first), next_eval_at__lte=now)
        .filter(paused=False)
        .update(lease=lease, leased_until=now + LEASE)
    )
    if not claimed:
        return lease, []
    return lease, _leased(lease)


# What a cycle reads of a rule; the rest (its times, lease) is deferred on the instances.
RULE_FIELDS = tuple(
    f.attname
    for f in ThresholdRule._meta.concrete_fields  # in the model's order, as from_db wants
    if f.attname
    not in ("paused", "next_eval_at", "lease", "leased_until", "last_evaluated_at", "created_at")
)
_rules: dict[tuple, ThresholdRule] = {}  # by its row: made again only when a setting changed


def _leased(lease: str) -> list[ThresholdRule]:
    """The rules of this lease, read as raw rows; an instance is made for a row not seen
    before (10,000 model instances cost more than the rest of a quiet cycle)."""
    columns = ", ".join(RULE_FIELDS)
    sql = f"SELECT {columns} FROM {ThresholdRule._meta.db_table} WHERE lease = %s ORDER BY id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [lease])
        rows = cursor.fetchall()
    if len(_rules) > 100_000:
        _rules.clear()
    out = []
    for row in rows:
        rule = _rules.get(row)
        if rule is None:
            values = dict(zip(RULE_FIELDS, row, strict=True))
            values["matchers"] = json.loads(values["matchers"])
            rule = ThresholdRule.from_db(connection.alias, list(RULE_FIELDS), values.values())
            _rules[row] = rule
        out.append(rule)
    return out


def run_cycle(now: datetime | None = None) -> int:
    """Evaluate every due rule once; the number of rules evaluated."""
    now = now or timezone.now()
    lease, rules = claim(now)
    promql, rules = rule_prometheus.split(rules)  # a Prometheus server's rules: its own module
    done = rule_prometheus.run(lease, promql, now)
    if not rules:
        return done
    matched = _matched(rules)
    end_ms = int(now.timestamp() * 1000)
    covered = rule_windows.covered_to()
    wanted: dict[tuple[str, int], set[int]] = defaultdict(set)
    for rule in rules:
        wanted[(rule.aggregation, rule.window_seconds)].update(s[0] for s in matched[rule.pk])
    values = {
        key: window_values(ids, end_ms - key[1] * 1000, end_ms, key[0], covered)
        for key, ids in wanted.items()
    }
    per_rule = {
        rule.id: (rule, values[(rule.aggregation, rule.window_seconds)], *_quiet_test(rule))
        for rule in rules
    }
    busy: list[tuple[ThresholdRule, StateRow, float | None]] = []
    ok = str(Level.OK)
    for row in _states(rules, matched, now):
        rule, found, above, trip = per_rule[row[1]]
        value = found.get(row[2])
        quiet = row[3] == ok and row[4] is None and row[5] is None
        if (
            quiet
            and value is not None
            and (trip is None or (value <= trip if above else value >= trip))
        ):
            continue  # ok, nothing pending or kept, no breach: step would change nothing
        busy.append((rule, StateRow(*row), value))
    last_at = _last_samples({state.series_id for _rule, state, _value in busy})
    changed: list[tuple[ThresholdRule, StateRow, dict[str, Any]]] = []
    dirty: list[StateRow] = []
    labels_of = {sid: labels for found in matched.values() for sid, labels in found}
    for rule, state, value in busy:
        level = state.level
        state.last_data_at = _latest(state.changed_at, last_at.get(state.series_id))
        if step(rule, state, value, now):
            dirty.append(state)
            if state.level != level:
                changed.append((rule, state, labels_of.get(state.series_id, {})))
    if dirty:  # the states and the release together (a quiet cycle: only the release)
        with transaction.atomic():
            _write(dirty)
            _release(lease, rules, now)
    else:
        _release(lease, rules, now)
    sources = Source.objects.in_bulk({rule.source_id for rule, _s, _l in changed})
    for rule, state, labels in changed:
        rule.source = sources[rule.source_id]
        signal(rule, state, labels, now)
    return done + len(rules)


STATE_COLUMNS = "id, rule_id, series_id, level, pending_since, keep_until, value, changed_at"


def _read_states(rule_ids: list[int]) -> list[tuple]:
    """STATE_COLUMNS of these rules' states; the times come as text (CAST: no converter runs
    on 100,000 rows, SQLite's nor psycopg's; StateRow parses the few it needs)."""
    ins, param = rule_windows.ids_in(rule_ids)
    columns = STATE_COLUMNS
    for name in ("pending_since", "keep_until", "changed_at"):
        columns = columns.replace(name, f"CAST({name} AS TEXT)")
    sql = f"SELECT {columns} FROM {RuleState._meta.db_table} WHERE rule_id {ins}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        return cursor.fetchall()


def _last_samples(series_ids: set[int]) -> dict[int, datetime | None]:
    """The last sample time of the series of the states `step` sees (few): one query."""
    if not series_ids:
        return {}
    ins, param = rule_windows.ids_in(sorted(series_ids))
    sql = f"SELECT id, last_sample_at FROM {Series._meta.db_table} WHERE id {ins}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        return {sid: _dt(at) for sid, at in cursor.fetchall()}


def _states(rules: list[ThresholdRule], matched: Matched, now: datetime) -> list[tuple]:
    """The states of every (rule, matched series) as raw rows (STATE_COLUMNS): read once; the
    missing ones made in bulk and read again; those of series no longer matched left out.
    (rule, series) pairs as one integer each: set operations in C for 100,000 of them."""
    ids = [rule.id for rule in rules]
    rows = _read_states(ids)
    want = {rule.id << 64 | sid for rule in rules for sid, _labels in matched[rule.id]}
    have = {row[1] << 64 | row[2] for row in rows}
    if have == want:
        return rows
    missing = want - have
    if missing:
        RuleState.objects.bulk_create(
            [
                RuleState(rule_id=k >> 64, series_id=k & (1 << 64) - 1, changed_at=now)
                for k in missing
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        rows = _read_states(ids)
    return [row for row in rows if row[1] << 64 | row[2] in want]


# The fields a step changes (what rule_prometheus bulk-updates on its own state rows).
WRITTEN = [
    "level",
    "pending_since",
    "keep_until",
    "value",
    "last_data_at",
    "last_evaluated",
    "changed_at",
]


def _write(dirty: list[StateRow]) -> None:
    """The changed states, one executemany (a steady cycle has few or none)."""
    if not dirty:
        return
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"UPDATE {RuleState._meta.db_table} SET level = %s, pending_since = %s, "
        "keep_until = %s, value = %s, last_data_at = %s, last_evaluated = %s, changed_at = %s "
        "WHERE id = %s"
    )
    rows = [
        (
            s.level,
            adapt(s.pending_since),
            adapt(s.keep_until),
            s.value,
            adapt(s.last_data_at),
            adapt(s.last_evaluated),
            adapt(s.changed_at),
            s.pk,
        )
        for s in dirty
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[i : i + CHUNK])


def _release(lease: str, rules: list[ThresholdRule], now: datetime) -> None:
    """The lease let go and the next evaluation set: one UPDATE per distinct interval."""
    for interval in sorted({rule.interval_seconds for rule in rules}):
        ThresholdRule.objects.filter(lease=lease, interval_seconds=interval).update(
            lease="",
            leased_until=None,
            last_evaluated_at=now,
            next_eval_at=now + timedelta(seconds=interval),
        )


# --- the alerts -------------------------------------------------------------------------------
def fingerprint(series_id: int) -> str:
    return f"series-{series_id}"


def signal(
    rule: ThresholdRule, state: RuleState | StateRow, labels: dict[str, Any], now: datetime
) -> None:
    """A level change told to the alerts' door: firing (severity by level) or resolved."""
    firing = state.level != Level.OK
    severity = "critical" if state.level == Level.CRITICAL else "warning"
    shown = "no data" if state.value is None else f"{rule.aggregation} {state.value:g}"
    what = " ".join(f"{k}={v}" for k, v in sorted(labels.items()))[:150]
    alerts.receive(
        rule.source,
        alerts.Signal(
            fingerprint=getattr(state, "key", "") or fingerprint(state.series_id),
            state=Alert.State.FIRING if firing else Alert.State.RESOLVED,
            name=f"{rule.name}: {rule.metric}{{{what}}}"[:300],
            starts_at=now,
            ends_at=None if firing else now,
            severity=severity if firing else "",
            labels={
                "rule": rule.name,
                "metric": rule.metric,
                **{k: str(v)[:200] for k, v in labels.items()},
            },
            annotations={"summary": f"{rule.name}: {state.level} ({shown})"[:500]},
        ),
        now,
    )
