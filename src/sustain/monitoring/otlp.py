"""OTLP/HTTP metrics (`POST /v1/metrics`) read into incoming series.

The format is OpenTelemetry's: an ExportMetricsServiceRequest in protobuf
(`application/x-protobuf`, what the SDK exporters send) or in the OTLP JSON mapping
(`application/json`), optionally gzip-compressed. Unknown fields are ignored, as the format
requires. Gauges, sums (monotonic ones are counters; cumulative or delta) and explicit-bucket
histograms are taken; a data point we cannot take (an exponential histogram, a summary, a point
without a time, a label past its bounds) is rejected alone and counted in the answer's
`partial_success`, never failing the rest.

Labels are the resource's attributes (less `telemetry.sdk.*`, which name the SDK, not the
series) and the point's own, the point's winning on a clash. A resource attribute
`sustain.config_item` (an item's name or id) names the configuration item, within the token's
organization (and its item, if the token is bound to one).
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Invalid
from sustain.monitoring import alertmanager
from sustain.monitoring.models import MachineToken, Series
from sustain.monitoring.series import (
    LABEL_KEY_MAX,
    LABEL_VALUE_MAX,
    MAX_LABELS,
    NAME_MAX,
    TIME_MAX_MS,
    TIME_MIN_MS,
    UNIT_MAX,
    Histogram,
    Incoming,
    check_histogram,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
ITEM_ATTRIBUTE = "sustain.config_item"
DROPPED_PREFIXES = ("telemetry.sdk.", "telemetry.auto.")
NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK


class BadRequest(Exception):
    """Not an OTLP request we can read: 400, never retried by the sender."""


class TooLarge(Exception):
    """Past the size bound (after decompression): 413."""


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its Content-Encoding, never more than `limit` bytes in memory."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise TooLarge(f"The body is larger than {limit} bytes.")
        return body
    if encoding not in ("gzip", "deflate"):
        raise BadRequest(f"Content-Encoding {encoding} is not supported (gzip is).")
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib, by the header
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BadRequest("The body is not valid gzip.") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"The body is larger than {limit} bytes once decompressed.")
    return out


def parse(body: bytes, content_type: str) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError):
            raise BadRequest("The body is not an OTLP ExportMetricsServiceRequest.") from None
    else:
        try:
            json_format.Parse(body.decode(), request, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadRequest(f"The body is not OTLP JSON: {str(exc)[:200]}") from None
    return request


# --- conversion ---------------------------------------------------------------------------
@dataclass
class Converted:
    series: list[Incoming] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, n: int, why: str) -> None:
        self.rejected += n
        if why not in self.errors and len(self.errors) < 5:
            self.errors.append(why)


def _text(value: AnyValue) -> str:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    if which is None:
        return ""
    return json.dumps(json_format.MessageToDict(value), sort_keys=True, separators=(",", ":"))


def _bounded(labels: dict[str, str]) -> str | None:
    """Why these labels cannot make a series, or None."""
    if len(labels) > MAX_LABELS:
        return f"more than {MAX_LABELS} attributes"
    for key, value in labels.items():
        if not key or len(key) > LABEL_KEY_MAX:
            return f"an attribute name is empty or longer than {LABEL_KEY_MAX}"
        if len(value) > LABEL_VALUE_MAX:
            return f"attribute {key[:40]} is longer than {LABEL_VALUE_MAX}"
    return None


def _ms(nanos: int) -> int | None:
    ms = nanos // 1_000_000
    return ms if TIME_MIN_MS <= ms < TIME_MAX_MS else None


def convert(
    request: ExportMetricsServiceRequest, token: MachineToken, items: dict[str, ConfigItem]
) -> Converted:
    out = Converted()
    for rm in request.resource_metrics:
        base = {
            kv.key: _text(kv.value)
            for kv in rm.resource.attributes
            if not kv.key.startswith(DROPPED_PREFIXES)
        }
        ref = base.pop(ITEM_ATTRIBUTE, None)
        item, why = _item(token, ref, items)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if why is not None:
                    out.reject(_count(metric), why)
                    continue
                _metric(out, metric, base, item)
    return out


def items_for(request: ExportMetricsServiceRequest, token: MachineToken) -> dict[str, ConfigItem]:
    refs = {
        kv.value.string_value or str(kv.value.int_value)
        for rm in request.resource_metrics
        for kv in rm.resource.attributes
        if kv.key == ITEM_ATTRIBUTE
    }
    return alertmanager.items_named(token.organization_id, refs)


def _item(
    token: MachineToken, ref: str | None, items: dict[str, ConfigItem]
) -> tuple[ConfigItem | None, str | None]:
    if ref is None:
        return token.config_item, None
    item = items.get(ref)
    if item is None:
        return None, f"{ITEM_ATTRIBUTE} {ref[:80]}: no such configuration item"
    if token.config_item_id is not None and item.pk != token.config_item_id:
        return None, f"{ITEM_ATTRIBUTE} {ref[:80]}: this token writes only its own item's series"
    return item, None


def _count(metric: Metric) -> int:
    which = metric.WhichOneof("data")
    return len(getattr(metric, which).data_points) if which else 0


def _kind(which: str, data: Any) -> tuple[str, str] | None:
    """(kind, temporality) of a gauge, sum or histogram; None without a temporality."""
    if which == "gauge":
        return Series.Kind.GAUGE, Series.Temporality.CUMULATIVE
    temporality = {
        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA: Series.Temporality.DELTA,
        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE: Series.Temporality.CUMULATIVE,
    }.get(data.aggregation_temporality)
    if temporality is None:
        return None
    if which == "histogram":
        return Series.Kind.HISTOGRAM, temporality
    if data.is_monotonic:
        return Series.Kind.COUNTER, temporality
    return Series.Kind.GAUGE, Series.Temporality.CUMULATIVE  # an up-down sum reads as a gauge


def _metric(out: Converted, metric: Metric, base: dict[str, str], item: ConfigItem | None) -> None:
    which = metric.WhichOneof("data")
    name = metric.name
    if not name or len(name) > NAME_MAX or len(metric.unit) > UNIT_MAX:
        out.reject(_count(metric), f"metric {name[:80]!r}: the name or unit is empty or too long")
        return
    if which not in ("gauge", "sum", "histogram"):
        out.reject(_count(metric), f"metric {name[:80]}: {which} is not supported")
        return
    data = getattr(metric, which)
    kind = _kind(which, data)
    if kind is None:
        out.reject(len(data.data_points), f"metric {name[:80]}: no aggregation temporality")
        return
    by_labels: dict[Any, Incoming] = {}
    seen: dict[tuple, tuple[dict[str, str], str | None]] = {}  # a point's attributes, read once
    for point in data.data_points:
        attributes = tuple((kv.key, _text(kv.value)) for kv in point.attributes)
        if attributes not in seen:
            labels = {**base, **dict(attributes)}
            seen[attributes] = (labels, _bounded(labels))
        labels, why = seen[attributes]
        if why is None and not point.flags & NO_RECORDED_VALUE:
            why = _add(by_labels, out, point, name, (labels, attributes), kind, metric.unit, item)
        if why is not None:
            out.reject(1, f"metric {name[:80]}: {why}")


def _add(
    by_labels: dict[Any, Incoming],
    out: Converted,
    point: Any,
    name: str,
    labelled: tuple[dict[str, str], tuple],
    kind: tuple[str, str],
    unit: str,
    item: ConfigItem | None,
) -> str | None:
    """One data point onto its series (made on its first point); why not, or None."""
    ms = _ms(point.time_unix_nano)
    if ms is None:
        return "a point's time is missing or not 2000-2100"
    histogram: Histogram | str | None = None
    if kind[0] == Series.Kind.HISTOGRAM:
        histogram = _histogram(point, ms)
        if isinstance(histogram, str):
            return histogram
    else:
        value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
        if not math.isfinite(value):
            return "a value is not finite"
    labels, key = labelled
    one = by_labels.get(key)
    if one is None:
        one = by_labels[key] = Incoming(
            where=f"metric {name}",
            name=name,
            labels=labels,
            kind=kind[0],
            temporality=kind[1],
            unit=unit,
            config_item=item,
        )
        out.series.append(one)
    if isinstance(histogram, Histogram):
        one.histograms.append(histogram)
    else:
        one.points.append((ms, float(value)))
    return None


def _histogram(point: Any, ms: int) -> Histogram | str:
    bounds, counts = list(point.explicit_bounds), list(point.bucket_counts)
    if not counts and not bounds:
        counts = [point.count]  # no buckets: one bucket holding everything
    total = point.sum if point.HasField("sum") else None
    try:
        b, c, n, s = check_histogram("point", bounds, counts, point.count, total)
    except Invalid as exc:
        return exc.message
    return Histogram(time=ms, count=n, sum=s, bounds=b, counts=c)
