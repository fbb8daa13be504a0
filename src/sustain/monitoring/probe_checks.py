"""One run of a probe: the HTTP(S) request or the TCP connection, through the outbound guard,
and the checks of the answer (status, keyword, JSON path). No database here: the scheduler
(probe_runs) hands a probe in and gets a `Outcome` back, in a thread of its pool.

What a check may say is ours, or the guard's words ("connection refused", "address not
allowed: loopback"): never a socket's own message, so a probe's log is no port scanner.

JSON paths are jsonpath-ng's extended syntax (`$.status`, `$.checks[0].ok`,
`$.checks[?(@.name == "db")].status`); the expected value is compared with the first match, as
text when the match is a string and as JSON otherwise (`true`, `42`, `null`, `"ok"` → ok).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from jsonpath_ng.ext import parse as jsonpath_parse

from sustain.core import outbound
from sustain.monitoring.models import Probe

BODY_MAX = 256 * 1024  # bytes of an answer read for the keyword and JSON checks
ERROR_MAX = 300
STATUS_PARTS_MAX = 20
SHOWN_MAX = 60  # characters of a found value quoted in an error

_parse_lock = threading.Lock()  # jsonpath-ng's parser (ply) is not made for threads


@dataclass(frozen=True)
class Outcome:
    ok: bool
    latency_ms: int | None = None
    status_code: int | None = None
    error: str = ""
    cert_expires_at: datetime | None = None


# --- what the settings say, checked where they are saved (probes.py) too -----------------------
def statuses(text: str) -> tuple[tuple[int, int], ...]:
    """`200-299,301` → ((200, 299), (301, 301)); ValueError naming what is wrong."""
    parts = [p.strip() for p in str(text or "").split(",") if p.strip()]
    if not parts or len(parts) > STATUS_PARTS_MAX:
        raise ValueError(f"give 1 to {STATUS_PARTS_MAX} status codes or ranges, e.g. 200-299")
    found = []
    for part in parts:
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"{part!r} is not a status code or a range") from None
        if not 100 <= first <= last <= 599:
            raise ValueError(f"{part!r} is not within 100-599")
        found.append((first, last))
    return tuple(found)


@lru_cache(maxsize=1024)
def json_path(expression: str) -> Any:
    """The compiled expression; ValueError when it is not one."""
    with _parse_lock:
        try:
            return jsonpath_parse(expression)
        except Exception as exc:  # the lexer's and parser's errors, and ply's own
            raise ValueError(f"{expression!r} is not a JSON path ({type(exc).__name__})") from None


@lru_cache(maxsize=4)
def _tls_context(ca_file: str) -> ssl.SSLContext:
    """The system's authorities, plus the administrator's CA bundle (SUSTAIN_PROBE_CA_FILE)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def tls_context() -> ssl.SSLContext:
    return _tls_context(getattr(settings, "PROBE_CA_FILE", "") or "")


# --- the run ----------------------------------------------------------------------------------
def run(probe: Probe) -> Outcome:
    """Run `probe` once; never raises for what the target does."""
    started = time.monotonic()
    try:
        if probe.kind == Probe.Kind.TCP:
            return _tcp(probe, started)
        return _http(probe, started)
    except outbound.OutboundError as exc:
        return Outcome(False, _elapsed(started), error=str(exc)[:ERROR_MAX])


def _elapsed(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


def _tcp(probe: Probe, started: float) -> Outcome:
    connection = outbound.open_connection(
        probe.host, int(probe.port or 0), timeout=float(probe.timeout_seconds)
    )
    connection.close()
    return Outcome(True, _elapsed(started))


def _http(probe: Probe, started: float) -> Outcome:
    answer = outbound.request(
        probe.method,
        probe.url,
        headers={"User-Agent": "Sustain-Probe/1", **(probe.headers or {})},
        timeout=float(probe.timeout_seconds),
        max_bytes=BODY_MAX,
        ssl_context=tls_context() if probe.url.lower().startswith("https:") else None,
    )
    latency = _elapsed(started)
    error = _check_answer(probe, answer)
    return Outcome(
        not error,
        latency,
        status_code=answer.status,
        error=error[:ERROR_MAX],
        cert_expires_at=answer.cert_expires_at,
    )


def _check_answer(probe: Probe, answer: outbound.Response) -> str:
    """What is wrong with the answer ("" when nothing is)."""
    expected = statuses(probe.expected_status)
    if not any(low <= answer.status <= high for low, high in expected):
        return f"status {answer.status}, expected {probe.expected_status}"
    if probe.keyword:
        text = answer.body.decode("utf-8", errors="replace")
        present = probe.keyword in text
        if present and probe.keyword_absent:
            return f"the answer contains {probe.keyword!r}"
        if not present and not probe.keyword_absent:
            more = f" (in its first {BODY_MAX // 1024} KiB)" if answer.truncated else ""
            return f"the answer does not contain {probe.keyword!r}{more}"
    if probe.json_path:
        return _check_json(probe, answer)
    return ""


def _check_json(probe: Probe, answer: outbound.Response) -> str:
    if answer.truncated:
        return f"the answer is larger than {BODY_MAX // 1024} KiB: no JSON check"
    try:
        document = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return "the answer is not JSON"
    matches = json_path(probe.json_path).find(document)
    if not matches:
        return f"{probe.json_path} finds nothing in the answer"
    if not probe.json_expected:
        return ""
    value = matches[0].value
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    if shown == probe.json_expected:
        return ""
    if len(shown) > SHOWN_MAX:
        shown = shown[:SHOWN_MAX] + "…"
    return f"{probe.json_path} is {shown!r}, expected {probe.json_expected!r}"
