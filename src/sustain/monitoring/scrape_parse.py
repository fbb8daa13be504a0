"""A Prometheus exposition read into incoming series (monitoring.series.Incoming), as
Prometheus itself would store it. No database and no network here: scrape_runs fetches the
answer and hands its text in.

- The text format 0.0.4 (or OpenMetrics, when the answer says so) is parsed by
  `prometheus_client`'s parsers.
- Gauges, untyped (and OpenMetrics' unknown, info, stateset) samples → gauge series; counters →
  cumulative counter series (named `x_total`, as the parser names them); summaries → one gauge
  per quantile (its `quantile` label) and `x_sum`, `x_count` counters; histograms → one
  histogram series per label set, its cumulative `le` buckets turned into the bucket counts
  series.Histogram keeps (the bucket above the last bound is +Inf's count minus the last finite
  one's), with `_sum` and the +Inf bucket as its count. `_created` samples are left out.
- Target labels (`job`, `instance`, the job's extra labels) are set on every series; a scraped
  label of the same name is kept as `exported_<name>` (Prometheus' honor_labels: false).
- A sample's own timestamp is kept; without one it is stamped with the scrape's time. NaN and
  infinite values are left out (a summary without observations says NaN), and counted.

Anything the parsers refuse, or a histogram whose buckets decrease, fails the whole scrape
with a ParseError in our words, as a Prometheus scrape fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Invalid
from sustain.monitoring.models import Series
from sustain.monitoring.series import (
    NAME_MAX,
    TIME_MAX_MS,
    TIME_MIN_MS,
    UNIT_MAX,
    Histogram,
    Incoming,
    check_histogram,
    check_labels,
)

GAUGE, COUNTER, HISTOGRAM = Series.Kind.GAUGE, Series.Kind.COUNTER, Series.Kind.HISTOGRAM
# Samples kept as counters: a counter's total, a summary's sum and count.
COUNTED = {("counter", "_total"), ("summary", "_sum"), ("summary", "_count")}
SHOWN = 120  # characters of the parser's complaint quoted in an error


class ParseError(ValueError):
    """Why an answer is not an exposition we can store (our words, short)."""


@dataclass
class Parsed:
    series: list[Incoming] = field(default_factory=list)
    samples: int = 0  # lines with a value in the answer (scrape_samples_scraped)
    left_out: int = 0  # NaN or infinite values


def instance(url: str) -> str:
    """`host:port` of a URL, the port filled in from the scheme (Prometheus' instance)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


def target_labels(job: str, url: str, extra: dict[str, str]) -> dict[str, str]:
    return {**extra, "job": job, "instance": instance(url)}


def with_target(scraped: dict[str, str], target: dict[str, str]) -> dict[str, str]:
    """The target's labels win; a scraped one of the same name stays as exported_<name>."""
    out = dict(scraped)
    for name, value in target.items():
        if name in out:
            moved = f"exported_{name}"
            while moved in out:
                moved = f"exported_{moved}"
            out[moved] = out.pop(name)
        out[name] = value
    return out


def families(text: str, content_type: str = "") -> Iterable[Any]:
    if "openmetrics" in content_type.lower():
        return openmetrics_families(text)
    return text_string_to_metric_families(text)


class _Reader:
    def __init__(self, target: dict[str, str], now_ms: int, item: ConfigItem | None):
        self.target, self.now_ms, self.item = target, now_ms, item
        self.found: dict[tuple[str, tuple[tuple[str, str], ...]], Incoming] = {}
        self.parsed = Parsed()

    def series(self, name: str, scraped: dict[str, str], kind: str, unit: str) -> Incoming:
        labels = with_target(scraped, self.target)
        key = (name, tuple(sorted(labels.items())))
        one = self.found.get(key)
        if one is None:
            if len(name) > NAME_MAX:
                raise ParseError(f"the metric name {name[:60]}… is longer than {NAME_MAX}")
            try:
                labels = check_labels(labels, f"{name[:80]} labels")
            except Invalid as exc:
                raise ParseError(exc.message) from None
            one = self.found[key] = Incoming(
                where=f"metric {name[:80]}",
                name=name,
                labels=labels,
                kind=kind,
                temporality=Series.Temporality.CUMULATIVE,
                unit=unit[:UNIT_MAX],
                config_item=self.item,
            )
            self.parsed.series.append(one)
        return one

    def time(self, sample: Any) -> int:
        stamp = sample.timestamp
        if stamp is None:
            return self.now_ms
        seconds = float(stamp.sec + stamp.nsec / 1e9) if hasattr(stamp, "sec") else float(stamp)
        ms = round(seconds * 1000)
        if not TIME_MIN_MS <= ms < TIME_MAX_MS:
            raise ParseError(f"{sample.name[:80]} has a timestamp outside 2000-2100")
        return ms

    def point(self, name: str, sample: Any, kind: str, unit: str) -> None:
        value = float(sample.value)
        if not math.isfinite(value):
            self.parsed.left_out += 1
            return
        self.series(name, dict(sample.labels), kind, unit).points.append((self.time(sample), value))

    def family(self, family: Any) -> None:
        kind, name, unit = family.type, family.name, getattr(family, "unit", "") or ""
        self.parsed.samples += len(family.samples)
        if kind in ("histogram", "gaugehistogram"):
            self.histograms(family, unit)
            return
        for sample in family.samples:
            suffix = sample.name[len(name) :] if sample.name.startswith(name) else None
            if suffix == "_created":
                continue
            cumulative = (kind, suffix) in COUNTED
            self.point(sample.name, sample, COUNTER if cumulative else GAUGE, unit)

    def histograms(self, family: Any, unit: str) -> None:
        name = family.name
        groups: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for sample in family.samples:
            suffix = sample.name[len(name) :]
            labels = {k: v for k, v in sample.labels.items() if k != "le"}
            group = groups.setdefault(
                tuple(sorted(labels.items())),
                {"labels": labels, "buckets": [], "sum": None, "time": None},
            )
            if suffix == "_bucket":
                try:
                    bound = float(sample.labels.get("le", ""))
                except ValueError:
                    raise ParseError(f"{name[:80]} has a bucket without a number in le") from None
                group["buckets"].append((bound, float(sample.value)))
                group["time"] = group["time"] if group["time"] is not None else self.time(sample)
            elif suffix in ("_sum", "_gsum"):
                group["sum"] = float(sample.value)
        for group in groups.values():
            if not group["buckets"]:
                continue  # only _sum/_count: nothing to keep buckets of
            histogram = self.histogram(name, group)
            self.series(name, group["labels"], HISTOGRAM, unit).histograms.append(histogram)

    def histogram(self, name: str, group: dict[str, Any]) -> Histogram:
        buckets = sorted(group["buckets"])
        if any(math.isnan(c) or c < 0 for _, c in buckets):
            raise ParseError(f"{name[:80]} has a bucket count that is not a number ≥ 0")
        cumulative = [round(c) for _, c in buckets]
        if any(b < a for a, b in itertools.pairwise(cumulative)):
            raise ParseError(f"the buckets of {name[:80]} decrease")
        bounds = [b for b, _ in buckets if math.isfinite(b)]
        finite = cumulative[: len(bounds)]
        total = cumulative[-1]  # the +Inf bucket (or, without one, the last)
        counts = [c - p for c, p in zip(finite, [0, *finite], strict=False)]
        counts.append(total - (finite[-1] if finite else 0))
        added = group["sum"]
        try:
            b, c, n, s = check_histogram(
                name[:80],
                bounds,
                counts,
                total,
                added if added is not None and math.isfinite(added) else None,
            )
        except Invalid as exc:
            raise ParseError(exc.message) from None
        return Histogram(time=group["time"], count=n, sum=s, bounds=b, counts=c)


def convert(
    text: str,
    *,
    target: dict[str, str],
    now_ms: int,
    content_type: str = "",
    config_item: ConfigItem | None = None,
) -> Parsed:
    """The exposition `text` as incoming series labelled with `target`; ParseError if it is
    not one."""
    reader = _Reader(target, now_ms, config_item)
    try:
        for family in families(text, content_type):
            reader.family(family)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        said = str(exc).strip().splitlines()[0][:SHOWN] if str(exc).strip() else ""
        raise ParseError(
            "the answer is not in Prometheus' text format" + (f" ({said})" if said else "")
        ) from None
    return reader.parsed
