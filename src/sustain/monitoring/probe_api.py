"""REST endpoints of probes: list, create, read, change, pause, resume, run now and delete
them, and list a probe's results (newest first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, Patch
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.monitoring import actions, probes, refs
from sustain.monitoring.models import Probe, ProbeResult

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
Headers = dict[str, str]


class ProbeOut(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    source: int = Field(alias="source_id")
    config_item: int | None = Field(None, alias="config_item_id")
    kind: str
    method: str
    url: str
    headers: Headers
    expected_status: str
    keyword: str
    keyword_absent: bool
    json_path: str
    json_expected: str
    tls_expiry_days: int
    host: str
    port: int | None
    timeout_seconds: int
    interval_seconds: int
    fail_after: int
    recover_after: int
    state: str
    consecutive_failures: int
    consecutive_successes: int
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_ok: bool | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str
    cert_expires_at: datetime | None
    created_at: datetime


class ProbeResultOut(Schema):
    id: int
    at: datetime
    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str
    cert_expires_at: datetime | None
    lag_ms: int | None


_INTERVAL = Field(60, ge=probes.INTERVAL_MIN, le=probes.INTERVAL_MAX)
_TIMEOUT = Field(10, ge=probes.TIMEOUT_MIN, le=probes.TIMEOUT_MAX)


class ProbeIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=probes.NAME_MAX)
    kind: str = Field("http", description="http or tcp; fixed once made.")
    config_item: int | None = None
    method: str = Field("GET", max_length=7)
    url: str = Field("", max_length=2000, description="HTTP probes: http:// or https://")
    headers: Headers = Field(default_factory=dict, description="At most 20, sent as given.")
    expected_status: str = Field("200-299", max_length=100, description="e.g. 200-299,301")
    keyword: str = Field("", max_length=probes.KEYWORD_MAX)
    keyword_absent: bool = False
    json_path: str = Field("", max_length=probes.JSON_PATH_MAX, description="e.g. $.status")
    json_expected: str = Field("", max_length=probes.JSON_EXPECTED_MAX)
    tls_expiry_days: int = Field(14, ge=0, le=probes.TLS_DAYS_MAX)
    host: str = Field("", max_length=probes.HOST_MAX, description="TCP probes only.")
    port: int | None = Field(None, ge=1, le=65535, description="TCP probes only.")
    timeout_seconds: int = _TIMEOUT
    interval_seconds: int = _INTERVAL
    fail_after: int = Field(2, ge=1, le=probes.THRESHOLD_MAX)
    recover_after: int = Field(1, ge=1, le=probes.THRESHOLD_MAX)


class ProbePatch(Patch):
    clearable = frozenset({"config_item", "port"})
    name: str | None = Field(None, min_length=1, max_length=probes.NAME_MAX)
    config_item: int | None = None
    method: str | None = Field(None, max_length=7)
    url: str | None = Field(None, max_length=2000)
    headers: Headers | None = None
    expected_status: str | None = Field(None, max_length=100)
    keyword: str | None = Field(None, max_length=probes.KEYWORD_MAX)
    keyword_absent: bool | None = None
    json_path: str | None = Field(None, max_length=probes.JSON_PATH_MAX)
    json_expected: str | None = Field(None, max_length=probes.JSON_EXPECTED_MAX)
    tls_expiry_days: int | None = Field(None, ge=0, le=probes.TLS_DAYS_MAX)
    host: str | None = Field(None, max_length=probes.HOST_MAX)
    port: int | None = Field(None, ge=1, le=65535)
    timeout_seconds: int | None = Field(None, ge=probes.TIMEOUT_MIN, le=probes.TIMEOUT_MAX)
    interval_seconds: int | None = Field(None, ge=probes.INTERVAL_MIN, le=probes.INTERVAL_MAX)
    fail_after: int | None = Field(None, ge=1, le=probes.THRESHOLD_MAX)
    recover_after: int | None = Field(None, ge=1, le=probes.THRESHOLD_MAX)


def _probes(request: ApiRequest):
    return tenancy.visible(Probe.objects.select_related("organization"), request.auth)


def _probe(request: ApiRequest, probe_id: int) -> Probe:
    return get_object_or_404(_probes(request), pk=probe_id)


@router.get("/monitoring/probes", response=Page[ProbeOut])
def list_probes(
    request: ApiRequest,
    state: str | None = None,
    kind: str | None = None,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Probes you may see; filter by state, kind or customer."""
    rows = _probes(request)
    if state:
        rows = rows.filter(state=state)
    if kind:
        rows = rows.filter(kind=kind)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/probes", response={201: ProbeOut, **ERRORS})
def create_probe(request: ApiRequest, payload: ProbeIn):
    """An HTTP(S) or TCP probe with its own source; it runs at once, then every interval."""
    actions.require_manager(request.auth)
    data = refs.with_item(request.auth, payload.dict())
    organization = refs.managed_organization(request.auth, data.pop("organization"))
    return Status(201, actions.create_probe(request.auth, organization, **data))


@router.get("/monitoring/probes/{probe_id}", response=ProbeOut)
def get_probe(request: ApiRequest, probe_id: Id):
    return _probe(request, probe_id)


@router.patch("/monitoring/probes/{probe_id}", response={200: ProbeOut, **ERRORS})
def update_probe(request: ApiRequest, probe_id: Id, payload: ProbePatch):
    probe = _probe(request, probe_id)
    changes = refs.with_item(request.auth, payload.dict(exclude_unset=True))
    return actions.update_probe(request.auth, probe, changes)


@router.post("/monitoring/probes/{probe_id}/pause", response={200: ProbeOut, **ERRORS})
def pause_probe(request: ApiRequest, probe_id: Id):
    """Never run until resumed; its firing alerts are resolved."""
    return actions.pause_probe(request.auth, _probe(request, probe_id))


@router.post("/monitoring/probes/{probe_id}/resume", response={200: ProbeOut, **ERRORS})
def resume_probe(request: ApiRequest, probe_id: Id):
    """Back to new, and run at once."""
    return actions.resume_probe(request.auth, _probe(request, probe_id))


@router.post("/monitoring/probes/{probe_id}/run", response={200: ProbeOut, **ERRORS})
def run_probe(request: ApiRequest, probe_id: Id):
    """Due now: the scheduler runs it within a second or so (409 while paused)."""
    return actions.run_now(request.auth, _probe(request, probe_id))


@router.delete("/monitoring/probes/{probe_id}", response={204: None, **ERRORS})
def delete_probe(request: ApiRequest, probe_id: Id):
    actions.delete_probe(request.auth, _probe(request, probe_id))
    return Status(204, None)


@router.get("/monitoring/probes/{probe_id}/results", response=Page[ProbeResultOut])
def list_results(
    request: ApiRequest, probe_id: Id, cursor: str | None = None, limit: int | None = None
):
    """A probe's results, newest first: status, latency, the error in the guard's words."""
    probe = _probe(request, probe_id)
    rows = ProbeResult.objects.filter(probe=probe)
    found, next_url = paginate(request, rows, order=("-at", "-id"), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}
