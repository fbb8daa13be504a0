"""The OTLP/HTTP metrics receiver, `POST /v1/metrics`, with the specification's answers.

Point an OpenTelemetry SDK at Sustain with
`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=https://sustain.example/v1/metrics` and
`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20sum_…` (a machine token).

- 200 with an ExportMetricsServiceResponse; rejected points are counted in its
  `partial_success` with a message (the sender does not retry them);
- 400 for a body that is not OTLP (never retried), 401 without a usable machine token, 415 for
  another content type, 413 over SUSTAIN_METRICS_MAX_BODY (counted after gzip is undone, so a
  small bomb cannot fill the memory);
- 429 when this process already ingests its share of batches at once, 503 when the database is
  busy: both with Retry-After, and the sender retries.

Error bodies are a google.rpc.Status in the request's content type (protobuf or JSON).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from sustain.core.ids import as_id
from sustain.monitoring import otlp
from sustain.monitoring import series as series_actions
from sustain.monitoring.tokens import machine_token

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2
# Batches one process ingests at once; more wait on the database anyway, so they are told to
# come back (429) instead of holding a worker thread each.
_running = threading.BoundedSemaphore(settings.METRICS_CONCURRENCY)


def _answer(message: Message, content_type: str, status: int = 200) -> HttpResponse:
    if content_type == otlp.JSON:
        body = json_format.MessageToJson(message, indent=None).encode()
    else:
        body = message.SerializeToString()
    return HttpResponse(body, status=status, content_type=content_type)


def _status(content_type: str, status: int, code: int, text: str, retry: bool = False):
    response = _answer(status_pb2.Status(code=code, message=text), content_type, status)
    if retry:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@csrf_exempt
def receive(request: HttpRequest) -> HttpResponse:
    content_type = (request.content_type or "").lower()
    answer_type = otlp.JSON if content_type == otlp.JSON else otlp.PROTOBUF
    if request.method != "POST":
        response = _status(answer_type, 405, code_pb2.UNIMPLEMENTED, "OTLP takes POST.")
        response["Allow"] = "POST"
        return response
    token = machine_token(_bearer(request))
    if token is None:
        return _status(
            answer_type,
            401,
            code_pb2.UNAUTHENTICATED,
            "Send a machine token: Authorization: Bearer sum_… (OTEL_EXPORTER_OTLP_HEADERS).",
        )
    if content_type not in (otlp.PROTOBUF, otlp.JSON):
        return _status(
            answer_type,
            415,
            code_pb2.INVALID_ARGUMENT,
            "Content-Type must be application/x-protobuf or application/json.",
        )
    limit = settings.METRICS_MAX_BODY
    if (as_id(request.META.get("CONTENT_LENGTH") or "0") or 0) > limit:
        return _status(answer_type, 413, code_pb2.RESOURCE_EXHAUSTED, f"Over {limit} bytes.")
    if not _running.acquire(blocking=False):
        return _status(
            answer_type, 429, code_pb2.RESOURCE_EXHAUSTED, "Busy; retry later.", retry=True
        )
    try:
        return _ingest(request, token, content_type, limit)
    finally:
        _running.release()


def _ingest(request: HttpRequest, token, content_type: str, limit: int) -> HttpResponse:
    try:
        body = otlp.decompress(request.body, request.headers.get("Content-Encoding", ""), limit)
        parsed = otlp.parse(body, content_type)
    except otlp.TooLarge as exc:
        return _status(content_type, 413, code_pb2.RESOURCE_EXHAUSTED, str(exc))
    except otlp.BadRequest as exc:
        return _status(content_type, 400, code_pb2.INVALID_ARGUMENT, str(exc))
    converted = otlp.convert(parsed, token, otlp.items_for(parsed, token))
    total = sum(len(s.points) + len(s.histograms) for s in converted.series)
    if total > settings.METRICS_MAX_SAMPLES:
        return _status(
            content_type,
            413,
            code_pb2.RESOURCE_EXHAUSTED,
            f"{total} data points; at most {settings.METRICS_MAX_SAMPLES} per request.",
        )
    try:
        result = series_actions.ingest(token, converted.series, refuse=False)
    except OperationalError:
        log.warning("OTLP ingest: database busy", exc_info=True)
        return _status(
            content_type, 503, code_pb2.UNAVAILABLE, "The database is busy; retry.", retry=True
        )
    response = ExportMetricsServiceResponse()
    rejected = converted.rejected + result.rejected
    if rejected:
        messages = [*converted.errors, *([result.message] if result.message else [])]
        response.partial_success.rejected_data_points = rejected
        response.partial_success.error_message = "; ".join(messages)[:1000]
    return _answer(response, content_type)
