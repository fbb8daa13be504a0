"""A Prometheus server's HTTP API, as a rule's data source: one instant query
(`/api/v1/query?query=…&time=…`) through the outbound guard, its answer read within bounds.

No database here: rule_prometheus hands a source and an expression in (from a thread of its
pool) and gets an `Answer` back, its elements or the error in words a rule page shows. What
may be said is ours, the guard's ("connection refused", "address not allowed: loopback") or
Prometheus' own `error` text (a PromQL parse error is what a user needs to read); never a
socket's message.

Only instant vectors and scalars make states: a vector's elements each one (named by their
labels), a scalar one without labels. A range vector (matrix) or a string is refused with a
clear error, as are answers over ANSWER_MAX bytes or ELEMENTS_MAX elements.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sustain.core import outbound
from sustain.monitoring.models import PrometheusSource
from sustain.monitoring.probe_checks import tls_context

PATH = "/api/v1/query"
ANSWER_MAX = 1024 * 1024  # bytes of an answer read
ELEMENTS_MAX = 1000  # states one rule may hold
ERROR_MAX = 500
LABELS_MAX, LABEL_MAX = 50, 200  # per element, what is kept (the fingerprint sees it all)


@dataclass
class Answer:
    """An instant query's elements, (labels, value) each (value None: NaN), or its error."""

    elements: list[tuple[dict[str, str], float | None]] = field(default_factory=list)
    error: str = ""


def auth_headers(source: PrometheusSource) -> dict[str, str]:
    if source.bearer_token:
        return {"Authorization": f"Bearer {source.bearer_token}"}
    if source.username:
        pair = f"{source.username}:{source.password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    return {}


def query(source: PrometheusSource, expression: str, at: datetime) -> Answer:
    """Ask `expression` at `at`; never raises for what the server does. A GET while the URL
    fits the guard's limit, else the same form as a POST body (Prometheus takes both)."""
    base = source.base_url.rstrip("/") + PATH
    form = urlencode({"query": expression, "time": f"{at.timestamp():.3f}"})
    headers = {"Accept": "application/json", "User-Agent": "Sustain-Rules/1"}
    headers |= auth_headers(source)
    options: dict[str, Any] = {
        "headers": headers,
        "timeout": float(source.timeout_seconds),
        "max_bytes": ANSWER_MAX,
    }
    if base.lower().startswith("https:"):
        options["ssl_context"] = tls_context()
    try:
        if len(base) + 1 + len(form) <= outbound.URL_MAX:
            answer = outbound.request("GET", f"{base}?{form}", **options)
        else:
            options["headers"] = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            answer = outbound.request("POST", base, body=form.encode(), **options)
    except outbound.OutboundError as exc:
        return Answer(error=_cut(f"Prometheus did not answer: {exc}."))
    return read(answer)


def read(answer: outbound.Response) -> Answer:
    """The elements of an API answer, or what is wrong with it."""
    if answer.truncated:
        return Answer(error=f"Prometheus' answer is larger than {ANSWER_MAX // 1024} KiB.")
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Answer(error=f"Prometheus answered HTTP {answer.status}, not its API's JSON.")
    if data.get("status") != "success":
        text = str(data.get("error") or f"HTTP {answer.status}")
        why = str(data.get("errorType") or "error")
        return Answer(error=_cut(f"Prometheus refused the query ({why}): {text}"))
    result = data.get("data")
    if not isinstance(result, dict):
        return Answer(error="Prometheus' answer has no data.")
    kind, found = result.get("resultType"), result.get("result")
    if kind == "scalar":
        return Answer(elements=[({}, _value(found))])
    if kind != "vector":
        return Answer(
            error=f"The expression gives a {kind}: a rule needs an instant vector or a scalar"
            + (" (drop the range selector [..])." if kind == "matrix" else ".")
        )
    if not isinstance(found, list):
        return Answer(error="Prometheus' vector is not a list.")
    if len(found) > ELEMENTS_MAX:
        return Answer(
            error=f"The expression gives {len(found)} series, more than {ELEMENTS_MAX}: "
            "narrow it (a label matcher, or an aggregation by fewer labels)."
        )
    elements = []
    for element in found:
        if not isinstance(element, dict) or not isinstance(element.get("metric"), dict):
            return Answer(error="An element of Prometheus' vector is not {metric, value}.")
        labels = {str(k): str(v) for k, v in element["metric"].items()}
        elements.append((labels, _value(element.get("value"))))
    return Answer(elements=elements)


def _value(pair: Any) -> float | None:
    """A sample's [time, "value"]: NaN reads as no value; ±Inf as the largest floats."""
    try:
        value = float(pair[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if math.isnan(value):
        return None
    if math.isinf(value):
        return math.copysign(sys.float_info.max, value)
    return value


def kept(labels: dict[str, str]) -> dict[str, str]:
    """The labels a state keeps: bounded in number and length."""
    return {k[:LABEL_MAX]: v[:LABEL_MAX] for k, v in sorted(labels.items())[:LABELS_MAX]}


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"
