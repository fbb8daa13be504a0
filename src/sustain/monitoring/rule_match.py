"""Which series each threshold rule watches: Prometheus' label matchers over the series of the
rule's organization and metric, computed once and kept (in this process) until that metric's
set of series changes.

The set's version is (count, highest id) of the organization's series of that name, read for
every metric of a cycle in one GROUP BY over the (organization, name) index: ids are never
reused (SQLite's AUTOINCREMENT, PostgreSQL's identity), so a series added or deleted changes
it, and a series' name and labels do not change (they make its key). A steady cycle then reads
no labels and matches nothing: the 100,000 series' labels are decoded and matched when a
metric's series change, by (selector, version).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Q

from sustain.monitoring.models import Series, ThresholdRule

Found = tuple[int, dict[str, Any]]  # (series id, labels)
MAX_KEPT = 5000  # metrics kept; past it the memory is cleared and rebuilt as needed


class _Metric:
    """One (organization, metric)'s series at one version, its label index, its matches."""

    __slots__ = ("index", "matched", "series", "version")

    def __init__(self, version: tuple[int, int], series: list[Found]) -> None:
        self.version = version
        self.series = series
        self.index: dict[str, dict[str, list[Found]]] = {}
        self.matched: dict[str, list[Found]] = {}

    def select(self, matchers: list[dict[str, str]]) -> list[Found]:
        key = repr(matchers)  # as stored: the same rule, the same text (cheaper than JSON)
        found = self.matched.get(key)
        if found is None:
            found = [s for s in self._candidates(matchers) if matches(matchers, s[1])]
            self.matched[key] = found
        return found

    def _candidates(self, matchers: list[dict[str, str]]) -> list[Found]:
        """Narrowed by the first equality matcher through a label index (built once per
        label): 10,000 rules on one metric do not each scan its series."""
        first = next((m for m in matchers if m["op"] == "=" and m["value"]), None)
        if first is None:
            return self.series
        built = self.index.get(first["label"])
        if built is None:
            built = defaultdict(list)
            for found in self.series:
                built[str(found[1].get(first["label"], ""))].append(found)
            self.index[first["label"]] = built
        return built.get(first["value"], [])


_kept: dict[tuple[int, str], _Metric] = {}
_lock = threading.Lock()


def matches(matchers: list[dict[str, str]], labels: dict[str, str]) -> bool:
    """Prometheus' label matchers; an absent label is the empty text; regexes match whole."""
    for m in matchers:
        have = labels.get(m["label"], "")
        op = m["op"]
        if (op == "=" and have != m["value"]) or (op == "!=" and have == m["value"]):
            return False
        if op in ("=~", "!~"):
            hit = re.fullmatch(m["value"], have) is not None
            if hit != (op == "=~"):
                return False
    return True


def _wanted(keys: set[tuple[int, str]]) -> Q:
    by_org: dict[int, set[str]] = defaultdict(set)
    for org, name in keys:
        by_org[org].add(name)
    wanted = Q()
    for org, names in by_org.items():
        wanted |= Q(organization_id=org, name__in=sorted(names))
    return wanted


def matched(rules: list[ThresholdRule]) -> dict[int, list[Found]]:
    """{rule id: [(series id, labels)]}: one query for the versions; the series of a metric
    read again (one query for all such metrics) only when its version changed."""
    keys = {(rule.organization_id, rule.metric) for rule in rules}
    versions = {
        (org, name): (n, top)
        for org, name, n, top in Series.objects.filter(_wanted(keys))
        .values("organization_id", "name")
        .annotate(n=Count("id"), top=Max("id"))
        .values_list("organization_id", "name", "n", "top")
    }
    with _lock:
        if len(_kept) > MAX_KEPT:
            _kept.clear()
        stale = {
            k for k in keys if k in versions and (k not in _kept or _kept[k].version != versions[k])
        }
    if stale:
        fresh: dict[tuple[int, str], list[Found]] = defaultdict(list)
        for sid, org, name, labels in (
            Series.objects.filter(_wanted(stale))
            .order_by("id")
            .values_list("id", "organization_id", "name", "labels")
        ):
            fresh[(org, name)].append((sid, labels))
        with _lock:
            for k in stale:
                _kept[k] = _Metric(versions[k], fresh.get(k, []))
    with _lock:
        metrics = {k: _kept[k] for k in keys if k in versions}
    empty: list[Found] = []
    out: dict[int, list[Found]] = {}
    for rule in rules:
        metric = metrics.get((rule.organization_id, rule.metric))
        out[rule.pk] = metric.select(rule.matchers) if metric is not None else empty
    return out


def forget() -> None:
    """Everything kept let go (tests that change series behind the version's back)."""
    with _lock:
        _kept.clear()
