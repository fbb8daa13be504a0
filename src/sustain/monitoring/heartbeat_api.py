"""REST endpoints of heartbeats: list, create, read, change, pause, resume and delete them,
and list a heartbeat's last pings. The ping URLs themselves are not here: they are plain
views at /ping/<uuid> (see ping_views), called by jobs without an account."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, Patch
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.monitoring import actions, refs
from sustain.monitoring.models import Heartbeat, Ping

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
PINGS_MAX = 100


def ping_url(heartbeat: Heartbeat) -> str:
    return f"{settings.BASE_URL}/ping/{heartbeat.uuid}"


class HeartbeatOut(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    source: int = Field(alias="source_id")
    config_item: int | None = Field(None, alias="config_item_id")
    uuid: UUID
    ping_url: str
    period_seconds: int
    grace_seconds: int
    cron: str
    time_zone: str
    state: str
    last_ping_at: datetime | None
    last_start_at: datetime | None
    last_duration: timedelta | None
    next_deadline_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_ping_url(heartbeat: Heartbeat) -> str:
        return ping_url(heartbeat)


class HeartbeatPingOut(Schema):
    id: int
    kind: str
    exit_status: int | None
    at: datetime
    rid: UUID | None
    body: str
    remote_addr: str
    user_agent: str
    method: str
    duration: timedelta | None


class HeartbeatIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=200)
    config_item: int | None = None
    period_seconds: int = Field(86400, ge=60)
    grace_seconds: int = Field(3600, ge=60)
    cron: str = Field("", max_length=100, description="Five fields; overrides the period.")
    time_zone: str = Field("UTC", max_length=64)


class HeartbeatPatch(Patch):
    clearable = frozenset({"config_item"})
    name: str | None = Field(None, min_length=1, max_length=200)
    config_item: int | None = None
    period_seconds: int | None = Field(None, ge=60)
    grace_seconds: int | None = Field(None, ge=60)
    cron: str | None = Field(None, max_length=100)
    time_zone: str | None = Field(None, max_length=64)


def _heartbeats(request: ApiRequest):
    return tenancy.visible(Heartbeat.objects.select_related("organization"), request.auth)


def _heartbeat(request: ApiRequest, heartbeat_id: int) -> Heartbeat:
    return get_object_or_404(_heartbeats(request), pk=heartbeat_id)


@router.get("/monitoring/heartbeats", response=Page[HeartbeatOut])
def list_heartbeats(
    request: ApiRequest,
    state: str | None = None,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Heartbeats you may see; filter by state or customer."""
    rows = _heartbeats(request)
    if state:
        rows = rows.filter(state=state)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/heartbeats", response={201: HeartbeatOut, **ERRORS})
def create_heartbeat(request: ApiRequest, payload: HeartbeatIn):
    """A heartbeat with its own source; point the job at its `ping_url`."""
    actions.require_manager(request.auth)
    data = refs.with_item(request.auth, payload.dict())
    organization = refs.managed_organization(request.auth, data.pop("organization"))
    return Status(201, actions.create_heartbeat(request.auth, organization, **data))


@router.get("/monitoring/heartbeats/{heartbeat_id}", response=HeartbeatOut)
def get_heartbeat(request: ApiRequest, heartbeat_id: Id):
    return _heartbeat(request, heartbeat_id)


@router.patch("/monitoring/heartbeats/{heartbeat_id}", response={200: HeartbeatOut, **ERRORS})
def update_heartbeat(request: ApiRequest, heartbeat_id: Id, payload: HeartbeatPatch):
    heartbeat = _heartbeat(request, heartbeat_id)
    changes = refs.with_item(request.auth, payload.dict(exclude_unset=True))
    return actions.update_heartbeat(request.auth, heartbeat, changes)


@router.post("/monitoring/heartbeats/{heartbeat_id}/pause", response={200: HeartbeatOut, **ERRORS})
def pause_heartbeat(request: ApiRequest, heartbeat_id: Id):
    """No deadline and no alert until resumed; a firing alert is resolved."""
    return actions.pause(request.auth, _heartbeat(request, heartbeat_id))


@router.post("/monitoring/heartbeats/{heartbeat_id}/resume", response={200: HeartbeatOut, **ERRORS})
def resume_heartbeat(request: ApiRequest, heartbeat_id: Id):
    """Back to new: the deadlines run again from the next ping."""
    return actions.resume(request.auth, _heartbeat(request, heartbeat_id))


@router.delete("/monitoring/heartbeats/{heartbeat_id}", response={204: None, **ERRORS})
def delete_heartbeat(request: ApiRequest, heartbeat_id: Id):
    actions.delete_heartbeat(request.auth, _heartbeat(request, heartbeat_id))
    return Status(204, None)


@router.get("/monitoring/heartbeats/{heartbeat_id}/pings", response=Page[HeartbeatPingOut])
def list_pings(
    request: ApiRequest, heartbeat_id: Id, cursor: str | None = None, limit: int | None = None
):
    """A heartbeat's pings, newest first, with their body (capped) and run duration."""
    heartbeat = _heartbeat(request, heartbeat_id)
    rows = Ping.objects.filter(heartbeat=heartbeat)
    found, next_url = paginate(request, rows, order=("-at", "-id"), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}
