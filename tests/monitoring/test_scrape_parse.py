"""Reading a Prometheus exposition into series (scrape_parse), as Prometheus stores it: the
kinds, the target labels and exported_ names, timestamps, histograms' cumulative buckets
turned into bucket counts, and what fails a scrape."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from sustain.monitoring.scrape_parse import ParseError, convert, instance, target_labels

NOW = 1_796_680_000_000
TARGET = target_labels("shop", "http://10.0.0.5:9100/metrics", {"env": "prod"})


def read(text: str, **kw):
    parsed = convert(text, target=TARGET, now_ms=NOW, **kw)
    return parsed, {(s.name, tuple(sorted(s.labels.items()))): s for s in parsed.series}


def labels(**more: str) -> tuple:
    return tuple(sorted({**TARGET, **more}.items()))


def test_instance_is_host_and_port_with_the_schemes_default():
    assert instance("http://10.0.0.5:9100/metrics") == "10.0.0.5:9100"
    assert instance("https://shop.example/metrics") == "shop.example:443"
    assert instance("http://shop.example/metrics") == "shop.example:80"
    assert instance("http://[2001:db8::1]:9100/m") == "[2001:db8::1]:9100"


def test_gauges_counters_and_untyped_samples_keep_their_kind_labels_and_value():
    text = (
        '# TYPE temp gauge\ntemp{room="a"} 3.5\n'
        '# TYPE reqs_total counter\nreqs_total{code="200"} 7\n'
        "loose 1.25\n"
    )
    parsed, found = read(text)
    assert parsed.samples == 3
    temp = found[("temp", labels(room="a"))]
    assert (temp.kind, temp.points) == ("gauge", [(NOW, 3.5)])
    reqs = found[("reqs_total", labels(code="200"))]
    assert (reqs.kind, reqs.temporality, reqs.points) == ("counter", "cumulative", [(NOW, 7.0)])
    assert found[("loose", labels())].kind == "gauge"


def test_a_scraped_label_named_like_a_target_label_is_kept_as_exported():
    parsed, _found = read('up_things{job="theirs",instance="x",exported_job="y"} 1\n')
    one = parsed.series[0]
    assert one.labels["job"] == "shop" and one.labels["instance"] == "10.0.0.5:9100"
    assert one.labels["exported_instance"] == "x"
    # exported_job is taken by a scraped label: Prometheus prefixes again
    assert (one.labels["exported_job"], one.labels["exported_exported_job"]) == ("y", "theirs")


def test_timestamps_of_the_exposition_are_kept_and_checked():
    _, found = read("a 1 1796679000123\nb 2\n")
    assert found[("a", labels())].points == [(1_796_679_000_123, 1.0)]
    assert found[("b", labels())].points == [(NOW, 2.0)]
    with pytest.raises(ParseError, match="outside 2000-2100"):
        read("a 1 123\n")


def test_nan_and_infinite_values_are_left_out_and_counted():
    parsed, found = read("a NaN\nb +Inf\nc 1\n")
    assert parsed.samples == 3 and parsed.left_out == 2
    assert list(found) == [("c", labels())]


def test_a_histogram_becomes_one_series_with_its_buckets():
    registry = CollectorRegistry()
    h = Histogram("lat", "l", ["route"], buckets=(0.1, 0.5, 2), registry=registry)
    for v in (0.05, 0.3, 0.3, 1, 5):
        h.labels("/pay").observe(v)
    _parsed, found = read(generate_latest(registry).decode())
    series = found[("lat", labels(route="/pay"))]
    assert series.kind == "histogram"
    (point,) = series.histograms
    assert point.bounds == [0.1, 0.5, 2.0]
    assert point.counts == [1, 2, 1, 1]  # the last: above 2, i.e. +Inf minus the 2 bucket
    assert (point.count, point.time) == (5, NOW)
    assert math.isclose(point.sum, 6.65)
    assert ("lat_bucket", labels(route="/pay", le="0.1")) not in found


def test_a_summary_is_quantile_gauges_and_sum_and_count_counters():
    text = (
        "# TYPE rpc summary\n"
        'rpc{quantile="0.5"} 0.2\nrpc{quantile="0.99"} 0.9\nrpc{quantile="0.9"} NaN\n'
        "rpc_sum 12.5\nrpc_count 40\n"
    )
    parsed, found = read(text)
    assert found[("rpc", labels(quantile="0.5"))].points == [(NOW, 0.2)]
    assert found[("rpc", labels(quantile="0.99"))].kind == "gauge"
    assert found[("rpc_sum", labels())].kind == "counter"
    assert found[("rpc_count", labels())].points == [(NOW, 40.0)]
    assert parsed.left_out == 1


def test_openmetrics_answers_are_read_with_the_openmetrics_parser():
    registry = CollectorRegistry()
    Counter("jobs", "j", registry=registry).inc(3)
    Gauge("depth", "d", unit="bytes", registry=registry).set(9)
    text = openmetrics_latest(registry).decode()
    _, found = read(text, content_type="application/openmetrics-text; version=1.0.0")
    assert found[("jobs_total", labels())].points == [(NOW, 3.0)]
    assert found[("depth_bytes", labels())].unit == "bytes"
    assert not [k for k in found if k[0].endswith("_created")]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("this is not { metrics\n", "not in Prometheus' text format"),
        (
            '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3\nh_count 3\n',
            "decrease",
        ),
        ('# TYPE h histogram\nh_bucket{le="x"} 5\n', "le"),
        ("a" * 300 + " 1\n", "longer than"),
    ],
)
def test_what_fails_a_scrape_says_why(text, why):
    with pytest.raises(ParseError, match=why):
        read(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=1000),
)
def test_bucket_counts_sum_to_the_histograms_count(per_bucket, above):
    """Whatever the cumulative buckets, the counts are their differences and add up."""
    cumulative, total = [], 0
    for c in per_bucket:
        total += c
        cumulative.append(total)
    lines = ["# TYPE h histogram"]
    lines += [f'h_bucket{{le="{i + 1}"}} {c}' for i, c in enumerate(cumulative)]
    lines += [f'h_bucket{{le="+Inf"}} {total + above}', f"h_count {total + above}", "h_sum 1"]
    _, found = read("\n".join(lines) + "\n")
    (point,) = found[("h", labels())].histograms
    assert point.counts == [*per_bucket, above]
    assert point.count == total + above == sum(point.counts)
