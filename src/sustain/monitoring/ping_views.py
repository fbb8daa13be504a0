"""The ping URLs jobs call, compatible with healthchecks: `/ping/<uuid>` (success),
`/ping/<uuid>/start`, `/fail`, `/log` and `/<exit status 0-255>` (0 is a success), with
`?rid=<uuid>` pairing a start with its end. GET, POST or HEAD; no account and no CSRF token:
the uuid is the secret. The body (at most `BODY_MAX` bytes read, never more) is the ping's
log. Answers "OK" as plain text, or 404 "not found" for an unknown uuid.

Plain Django views, kept fast: one transaction of a few queries per ping.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sustain.core.client import client_address
from sustain.monitoring import heartbeats, metrics
from sustain.monitoring.models import Ping

KINDS = {"start": Ping.Kind.START, "fail": Ping.Kind.FAIL, "log": Ping.Kind.LOG}
METHODS = ("GET", "POST", "HEAD")


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _body(request: HttpRequest) -> str:
    """At most BODY_MAX bytes of the body, read from the stream (never more than one past)."""
    if request.method != "POST":
        return ""
    data = request.read(heartbeats.BODY_MAX + 1)
    return data[: heartbeats.BODY_MAX].decode("utf-8", errors="replace")


def _rid(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.GET["rid"])
    except (KeyError, ValueError):
        return None


def _call(request: HttpRequest, key: uuid.UUID, kind: str, exit_status: int | None):
    if request.method not in METHODS:
        return _text("method not allowed", 405)
    rid = _rid(request)
    if "rid" in request.GET and rid is None:
        return _text("invalid rid: give a uuid", 400)
    call = heartbeats.Call(
        kind=kind,
        exit_status=exit_status,
        rid=rid,
        body=_body(request),
        remote_addr=client_address(request)[:45],
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.method or "",
    )
    if heartbeats.ping(key, call) is None:
        return _text("not found", 404)
    metrics.HEARTBEAT_PINGS.inc()
    return _text("OK")


@csrf_exempt
def success(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    return _call(request, key, Ping.Kind.SUCCESS, None)


@csrf_exempt
def signal(request: HttpRequest, key: uuid.UUID, action: str) -> HttpResponse:
    """start, fail, log, or an exit status (0 success, 1–255 failure)."""
    if action in KINDS:
        return _call(request, key, KINDS[action], None)
    if action.isdigit() and len(action) <= 3 and int(action) <= 255:
        status = int(action)
        return _call(request, key, Ping.Kind.SUCCESS if status == 0 else Ping.Kind.FAIL, status)
    return _text("not found", 404)
