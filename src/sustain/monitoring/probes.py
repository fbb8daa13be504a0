"""Probes: set-up (create, change, pause, resume, run now, delete), each checked whole before
anything is written. Running them is probe_runs' (the scheduler) and probe_checks' (one run).

A probe's target is judged by the outbound guard where it is saved: public addresses, and the
networks an administrator allows (SUSTAIN_OUTBOUND_ALLOW_NETWORKS), so one's own services can
be probed and the server's own cannot. The guard judges every run again, on the address it
connects to.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, outbound, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.monitoring import alerts, probe_checks
from sustain.monitoring.models import Alert, Probe, Source

NAME_MAX = 200
INTERVAL_MIN, INTERVAL_MAX = 30, 24 * 3600
TIMEOUT_MIN, TIMEOUT_MAX = 1, 60
THRESHOLD_MAX = 20
TLS_DAYS_MAX = 365
HEADERS_MAX = 20
HEADER_NAME_MAX, HEADER_VALUE_MAX = 100, 1000
KEYWORD_MAX, JSON_PATH_MAX, JSON_EXPECTED_MAX = 200, 300, 500
HOST_MAX = 253
DOWN, TLS = "probe", "tls-expiry"  # the fingerprints of a probe's two alerts
State = Probe.State
log = logging.getLogger(__name__)
HTTP_ONLY = (
    "method",
    "url",
    "headers",
    "expected_status",
    "keyword",
    "keyword_absent",
    "json_path",
    "json_expected",
    "tls_expiry_days",
)
SETTINGS = (
    "name",
    "config_item",
    *HTTP_ONLY,
    "host",
    "port",
    "timeout_seconds",
    "interval_seconds",
    "fail_after",
    "recover_after",
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# Set by the request itself: a probe's own value would break the exchange or its pinning.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


# --- checks -----------------------------------------------------------------------------------
def check_manager(actor: User, organization: Organization) -> None:
    if not (actor.is_manager or actor.is_admin):
        raise Forbidden("Only managers and administrators may change monitoring.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")


def whole_number(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number from {low} to {high}.", field=field)
    return value


def bounded_text(field: str, value: Any, most: int) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text.", field=field)
    value = value.strip()
    if len(value) > most:
        raise Invalid(f"{field} may have at most {most} characters.", field=field)
    return value


def guard_error(exc: outbound.OutboundError, field: str) -> Invalid:
    if exc.kind is outbound.Kind.NOT_ALLOWED:
        return Invalid(
            f"Probes may not reach this address ({exc.reason}): only public addresses, and "
            "networks an administrator allows (SUSTAIN_OUTBOUND_ALLOW_NETWORKS).",
            field=field,
        )
    detail = f": {exc.reason}" if exc.reason else f" ({exc.kind})"
    return Invalid(f"The {field} is not valid{detail}.", field=field)


def _check_url(url: str) -> str:
    if not url:
        raise Invalid("An HTTP probe needs a URL (http:// or https://).", field="url")
    try:
        outbound.check_target(url)
    except outbound.OutboundError as exc:
        raise guard_error(exc, "url") from None
    return url


def _check_host(host: str, port: int) -> str:
    if not host:
        raise Invalid("A TCP probe needs a host.", field="host")
    literal = f"[{host}]" if ":" in host else host
    try:
        outbound.check_target(f"http://{literal}:{port}/")
    except outbound.OutboundError as exc:
        raise guard_error(exc, "host") from None
    return host


def _check_headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("headers must be an object of header names and values.", field="headers")
    if len(value) > HEADERS_MAX:
        raise Invalid(f"At most {HEADERS_MAX} headers.", field="headers")
    checked = {}
    for name, text in value.items():
        if not isinstance(name, str) or not 0 < len(name) <= HEADER_NAME_MAX:
            raise Invalid(f"A header name has 1 to {HEADER_NAME_MAX} characters.", field="headers")
        if not _HEADER_NAME.match(name):
            raise Invalid(f"{name[:40]!r} is not a header name.", field="headers")
        if name.lower() in RESERVED_HEADERS:
            raise Invalid(f"The {name} header is set by the probe itself.", field="headers")
        if not isinstance(text, str) or len(text) > HEADER_VALUE_MAX:
            raise Invalid(
                f"The {name} header's value is text of at most {HEADER_VALUE_MAX} characters.",
                field="headers",
            )
        if any(c in text for c in "\r\n\0"):
            raise Invalid(f"The {name} header's value has a line break.", field="headers")
        checked[name] = text
    return checked


def _checked(organization: Organization, kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every setting of a probe of `kind`, checked together; what to store."""
    out = dict(values)
    name = bounded_text("name", values.get("name") or "", NAME_MAX)
    if not name:
        raise Invalid(f"Give the probe a name of at most {NAME_MAX} characters.", field="name")
    out["name"] = name
    item = values.get("config_item")
    if item is not None and item.organization_id != organization.pk:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )
    interval = whole_number(
        "interval_seconds", values["interval_seconds"], INTERVAL_MIN, INTERVAL_MAX
    )
    timeout = whole_number("timeout_seconds", values["timeout_seconds"], TIMEOUT_MIN, TIMEOUT_MAX)
    if timeout >= interval:
        raise Invalid(
            "timeout_seconds must be shorter than interval_seconds.", field="timeout_seconds"
        )
    for field in ("fail_after", "recover_after"):
        whole_number(field, values[field], 1, THRESHOLD_MAX)
    if kind == Probe.Kind.TCP:
        return _checked_tcp(out, values)
    if kind != Probe.Kind.HTTP:
        raise Invalid("kind must be http or tcp.", field="kind")
    return _checked_http(out, values)


def _checked_tcp(out: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    for field in ("url", "keyword", "json_path", "json_expected"):
        if values.get(field):
            raise Invalid(f"A TCP probe has no {field}: it only connects.", field=field)
    if values.get("headers"):
        raise Invalid("A TCP probe sends no headers: it only connects.", field="headers")
    port = whole_number("port", values.get("port"), 1, 65535)
    out["host"] = _check_host(bounded_text("host", values.get("host") or "", HOST_MAX), port)
    out["port"] = port
    return out


def _checked_http(out: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if values.get("host") or values.get("port") is not None:
        field = "host" if values.get("host") else "port"
        raise Invalid(f"An HTTP probe has no {field}: its URL names where it goes.", field=field)
    out["url"] = _check_url(bounded_text("url", values.get("url") or "", outbound.URL_MAX))
    if values["method"] not in Probe.Method.values:
        raise Invalid(f"method must be one of {', '.join(Probe.Method.values)}.", field="method")
    out["headers"] = _check_headers(values.get("headers"))
    expected = bounded_text("expected_status", values.get("expected_status") or "", 100)
    try:
        probe_checks.statuses(expected)
    except ValueError as exc:
        raise Invalid(f"expected_status: {exc}.", field="expected_status") from None
    out["expected_status"] = expected.replace(" ", "")
    out["keyword"] = bounded_text("keyword", values.get("keyword") or "", KEYWORD_MAX)
    if not isinstance(values.get("keyword_absent", False), bool):
        raise Invalid("keyword_absent must be true or false.", field="keyword_absent")
    path = bounded_text("json_path", values.get("json_path") or "", JSON_PATH_MAX)
    if path:
        try:
            probe_checks.json_path(path)
        except ValueError as exc:
            raise Invalid(f"json_path: {exc}.", field="json_path") from None
    out["json_path"] = path
    out["json_expected"] = bounded_text(
        "json_expected", values.get("json_expected") or "", JSON_EXPECTED_MAX
    )
    if out["json_expected"] and not path:
        raise Invalid("json_expected needs a json_path to compare with.", field="json_expected")
    whole_number("tls_expiry_days", values["tls_expiry_days"], 0, TLS_DAYS_MAX)
    return out


DEFAULTS: dict[str, Any] = {
    "config_item": None,
    "method": Probe.Method.GET,
    "url": "",
    "headers": {},
    "expected_status": "200-299",
    "keyword": "",
    "keyword_absent": False,
    "json_path": "",
    "json_expected": "",
    "tls_expiry_days": 14,
    "host": "",
    "port": None,
    "timeout_seconds": 10,
    "interval_seconds": 60,
    "fail_after": 2,
    "recover_after": 1,
}


# --- set-up -----------------------------------------------------------------------------------
def create_probe(
    actor: User,
    organization: Organization,
    *,
    name: str,
    kind: str = Probe.Kind.HTTP,
    now: datetime | None = None,
    **settings: Any,
) -> Probe:
    """A probe for `organization`, with its own source; it runs at once, then every interval."""
    check_manager(actor, organization)
    refuse_unknown(settings, SETTINGS, "Unknown probe field: {names}.")
    values = _checked(organization, kind, {**DEFAULTS, **settings, "name": name})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            source = Source.objects.create(
                organization=organization,
                name=values["name"],
                kind=Source.Kind.PROBE,
                config_item=values["config_item"],
            )
            probe = Probe.objects.create(
                organization=organization, kind=kind, source=source, next_run_at=now, **values
            )
            events.record(probe, "created", actor=actor, after={"name": probe.name, "kind": kind})
            transaction.on_commit(_wake_worker)
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a probe named {values['name']}.", field="name"
        ) from None
    return probe


def update_probe(
    actor: User, probe: Probe, changes: dict[str, Any], now: datetime | None = None
) -> Probe:
    """Change a probe's settings (not its kind); an active probe runs again at once."""
    check_manager(actor, probe.organization)
    refuse_unknown(changes, SETTINGS, "Unknown probe field: {names}.")
    fresh = Probe.objects.select_related("organization").get(pk=probe.pk)
    current = {name: getattr(fresh, name) for name in SETTINGS}
    # Checked outside the transaction: the URL's name is resolved, which may take seconds.
    values = _checked(fresh.organization, fresh.kind, {**current, **changes})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            (probe,) = locked_all(Probe.objects.filter(pk=probe.pk))
            for key in changes:
                setattr(probe, key, values[key])
            if probe.state != State.PAUSED:
                probe.next_run_at = now
                transaction.on_commit(_wake_worker)
            probe.save()
            Source.objects.filter(pk=probe.source_id).update(
                name=probe.name, config_item=probe.config_item
            )
            events.record(probe, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(f"A probe named {values['name']} exists already.", field="name") from None
    return probe


def pause_probe(actor: User, probe: Probe, now: datetime | None = None) -> Probe:
    """Paused: never run, no alert, until resumed; its firing alerts are resolved (nobody is
    told about a service someone took down on purpose)."""
    check_manager(actor, probe.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (probe,) = locked_all(Probe.objects.filter(pk=probe.pk).select_related("source"))
        if probe.state == State.PAUSED:
            return probe
        was_down, tls_firing = probe.state == State.DOWN, probe.tls_alert_firing
        probe.state, probe.next_run_at = State.PAUSED, None
        probe.lease, probe.leased_until, probe.tls_alert_firing = "", None, False
        probe.consecutive_failures = probe.consecutive_successes = 0
        probe.save()
        if was_down:
            signal_down(probe, Alert.State.RESOLVED, now, "paused")
        if tls_firing:
            signal_tls(probe, Alert.State.RESOLVED, now, None)
        events.record(probe, "paused", actor=actor)
    return probe


def resume_probe(actor: User, probe: Probe, now: datetime | None = None) -> Probe:
    """Back to new, and run at once."""
    check_manager(actor, probe.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (probe,) = locked_all(Probe.objects.filter(pk=probe.pk))
        if probe.state == State.PAUSED:
            probe.state, probe.next_run_at = State.NEW, now
            probe.save(update_fields=["state", "next_run_at"])
            events.record(probe, "resumed", actor=actor)
            transaction.on_commit(_wake_worker)
    return probe


def run_now(actor: User, probe: Probe, now: datetime | None = None) -> Probe:
    """Due at once: the scheduler runs it within a second or so."""
    check_manager(actor, probe.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (probe,) = locked_all(Probe.objects.filter(pk=probe.pk))
        if probe.state == State.PAUSED:
            raise Conflict("The probe is paused: resume it to run it.")
        probe.next_run_at = now
        probe.save(update_fields=["next_run_at"])
        events.record(probe, "run_requested", actor=actor)
        transaction.on_commit(_wake_worker)
    return probe


def delete_probe(actor: User, probe: Probe) -> None:
    """The probe, its results and its source (with its alerts) go; incidents stay."""
    check_manager(actor, probe.organization)
    with transaction.atomic():
        events.record(probe, "deleted", actor=actor, before={"name": probe.name})
        Source.objects.filter(pk=probe.source_id).delete()  # cascades to the probe


def _wake_worker() -> None:
    """A worker's scheduler thread starts at once if none runs (else the minute's task would)."""
    from sustain.monitoring.tasks import wake_probes

    try:
        wake_probes()
    except Exception:  # the periodic task starts it anyway
        log.exception("could not queue the probe scheduler's wake-up")


# --- the alerts -------------------------------------------------------------------------------
def signal_down(probe: Probe, state: str, now: datetime, why: str) -> None:
    alerts.receive(
        probe.source,
        alerts.Signal(
            fingerprint=DOWN,
            state=state,
            name=f"Probe {probe.name} is down",
            starts_at=now,
            ends_at=now if state == Alert.State.RESOLVED else None,
            severity="critical",
            labels={"probe": probe.name, "target": probe.target[:200]},
            annotations={"summary": f"{probe.name}: {why}"[:500]},
            config_item=probe.config_item,
        ),
        now,
    )


def signal_tls(probe: Probe, state: str, now: datetime, expires: datetime | None) -> None:
    when = f"expires {expires:%Y-%m-%d %H:%M} UTC" if expires else "renewed"
    alerts.receive(
        probe.source,
        alerts.Signal(
            fingerprint=TLS,
            state=state,
            name=f"TLS certificate of {probe.name} expires soon",
            starts_at=now,
            ends_at=now if state == Alert.State.RESOLVED else None,
            severity="warning",
            labels={"probe": probe.name, "target": probe.target[:200]},
            annotations={"summary": f"{probe.name}: the certificate {when}"},
            config_item=probe.config_item,
        ),
        now,
    )
