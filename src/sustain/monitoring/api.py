"""REST endpoints of monitoring: the Alertmanager webhook (machine tokens), and alerts,
sources, machine tokens and the severity mapping (people's tokens and sessions).

Point an Alertmanager receiver at `POST /api/v1/hooks/alertmanager` with
`http_config: {authorization: {credentials: sum_…}}` (or basic auth with the token as the
password): each alert, by its fingerprint, opens, updates or resolves one incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from sustain.cmdb import refs as cmdb_refs
from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, Patch
from sustain.core.http import ApiRequest
from sustain.core.ids import as_id
from sustain.core.pagination import paginate
from sustain.monitoring import actions, refs
from sustain.monitoring.models import Alert, AlertEvent, MachineToken, SeverityMapping, Source
from sustain.monitoring.tokens import MachineTokenAuth

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut}


class ReceivedOut(Schema):
    alerts: int = Field(description="Alerts in the delivery.")
    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    noted: int = 0
    repeat: int = 0
    stale: int = 0
    flapping: int = 0
    recorded: int = 0
    held: int = Field(0, description="Held by a maintenance window: no incident yet.")


@router.post(
    "/hooks/alertmanager",
    auth=MachineTokenAuth(),
    response={200: ReceivedOut, **ERRORS},
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "Alertmanager's webhook payload, version 4.",
        }
    },
)
def alertmanager_webhook(request: ApiRequest):
    """Alertmanager's webhook (version 4); unknown fields are ignored, as the format expects.
    Duplicate and concurrent deliveries of one alert give one incident."""
    length = as_id(request.META.get("CONTENT_LENGTH") or "0") or 0
    if length > actions.alertmanager.MAX_BODY:
        raise actions.alertmanager.TooLarge(
            f"The body is larger than {actions.alertmanager.MAX_BODY} bytes."
        )
    return actions.receive_alertmanager(request.machine_token, request.body)  # type: ignore[attr-defined]


# --- alerts -----------------------------------------------------------------------------------
class AlertEventOut(Schema):
    what: str
    at: datetime
    detail: str


class AlertOut(Schema):
    id: int
    fingerprint: str
    name: str
    state: str
    flapping: bool = Field(alias="is_flapping")
    severity: str
    organization: str = Field(alias="organization.slug")
    source: int = Field(alias="source_id")
    source_name: str = Field(alias="source.name")
    config_item: int | None = Field(None, alias="config_item_id")
    ticket: str | None = Field(None, alias="ticket.key")
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    state_changed_at: datetime
    received: int


class AlertDetailOut(AlertOut):
    history: list[AlertEventOut]

    @staticmethod
    def resolve_history(alert: Alert) -> list[AlertEvent]:
        return list(alert.history.order_by("-at", "-id")[:100])


def _alerts(request: ApiRequest):
    return tenancy.visible(
        Alert.objects.select_related("organization", "source", "ticket"), request.auth
    )


@router.get("/monitoring/alerts", response=Page[AlertOut])
def list_alerts(
    request: ApiRequest,
    state: str | None = None,
    flapping: bool | None = None,
    organization: str | None = None,
    source: int | None = None,
    config_item: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Alerts you may see, newest change first; filter by state, flapping, customer, source."""
    rows = _alerts(request)
    if state:
        rows = rows.filter(state=state)
    if flapping is not None:
        rows = rows.filter(flapping_since__isnull=not flapping)
    if organization:
        rows = rows.filter(organization__slug=organization)
    if source:
        rows = rows.filter(source_id=source)
    if config_item:
        rows = rows.filter(config_item_id=config_item)
    found, next_url = paginate(
        request, rows, order=("-state_changed_at", "-id"), limit=limit, cursor=cursor
    )
    return {"results": found, "next": next_url}


@router.get("/monitoring/alerts/{alert_id}", response=AlertDetailOut)
def get_alert(request: ApiRequest, alert_id: Id):
    return get_object_or_404(_alerts(request), pk=alert_id)


# --- sources ----------------------------------------------------------------------------------
class SourceOut(Schema):
    id: int
    name: str
    kind: str
    organization: str = Field(alias="organization.slug")
    config_item: int | None = Field(None, alias="config_item_id")
    resolve_incidents: bool
    reopen_within_minutes: int
    flap_changes: int
    flap_window_minutes: int
    stable_minutes: int
    created_at: datetime


class SourceIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(Source.Kind.ALERTMANAGER, json_schema_extra={"enum": list(Source.Kind)})
    config_item: int | None = None
    resolve_incidents: bool = True
    reopen_within_minutes: int = Field(60, ge=0)
    flap_changes: int = Field(4, ge=2)
    flap_window_minutes: int = Field(30, ge=1)
    stable_minutes: int = Field(15, ge=1)


class SourcePatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)
    config_item: int | None = None
    resolve_incidents: bool | None = None
    reopen_within_minutes: int | None = Field(None, ge=0)
    flap_changes: int | None = Field(None, ge=2)
    flap_window_minutes: int | None = Field(None, ge=1)
    stable_minutes: int | None = Field(None, ge=1)


def _sources(request: ApiRequest):
    return tenancy.visible(Source.objects.select_related("organization"), request.auth)


def _organization_for(request: ApiRequest, ref: int | str):
    return refs.managed_organization(request.auth, ref)


@router.get("/monitoring/sources", response=Page[SourceOut])
def list_sources(
    request: ApiRequest,
    kind: str | None = None,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    rows = _sources(request)
    if kind:
        rows = rows.filter(kind=kind)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/sources", response={201: SourceOut, **ERRORS})
def create_source(request: ApiRequest, payload: SourceIn):
    actions.require_manager(request.auth)
    data = payload.dict()
    organization = _organization_for(request, data.pop("organization"))
    item = cmdb_refs.config_item(request.auth, data.pop("config_item"), field="config_item")
    source = actions.create_source(request.auth, organization, config_item=item, **data)
    return Status(201, source)


@router.get("/monitoring/sources/{source_id}", response=SourceOut)
def get_source(request: ApiRequest, source_id: Id):
    return get_object_or_404(_sources(request), pk=source_id)


@router.patch("/monitoring/sources/{source_id}", response={200: SourceOut, **ERRORS})
def update_source(request: ApiRequest, source_id: Id, payload: SourcePatch):
    source = get_object_or_404(_sources(request), pk=source_id)
    changes = payload.dict(exclude_unset=True)
    if "config_item" in changes:
        changes["config_item"] = cmdb_refs.config_item(
            request.auth, changes["config_item"], field="config_item"
        )
    return actions.update_source(request.auth, source, changes)


# --- machine tokens ---------------------------------------------------------------------------
class MachineTokenOut(Schema):
    id: int
    name: str
    prefix: str
    organization: str = Field(alias="organization.slug")
    source: int | None = Field(None, alias="source_id")
    config_item: int | None = Field(None, alias="config_item_id")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class MachineTokenWithSecretOut(MachineTokenOut):
    token: str = Field(description="Shown only here: keep it in the sender's configuration.")


class MachineTokenIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=100)
    source: int | None = None
    config_item: int | None = None


def _tokens(request: ApiRequest):
    if not request.auth.is_agent:
        return MachineToken.objects.none()
    return tenancy.visible(MachineToken.objects.select_related("organization"), request.auth)


@router.get("/monitoring/machine-tokens", response=Page[MachineTokenOut])
def list_machine_tokens(request: ApiRequest, cursor: str | None = None, limit: int | None = None):
    """Staff: the machine tokens of the customers they serve."""
    found, next_url = paginate(request, _tokens(request), order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/machine-tokens", response={201: MachineTokenWithSecretOut, **ERRORS})
def create_machine_token(request: ApiRequest, payload: MachineTokenIn):
    """A machine token for one organization (and optionally one source or item), shown once."""
    organization = _organization_for(request, payload.organization)
    source = None
    if payload.source is not None:
        source = get_object_or_404(_sources(request), pk=payload.source)
    item = cmdb_refs.config_item(request.auth, payload.config_item, field="config_item")
    token, raw = actions.create_machine_token(
        request.auth, organization, name=payload.name, source=source, config_item=item
    )
    token.token = raw  # type: ignore[attr-defined]
    return Status(201, token)


@router.post(
    "/monitoring/machine-tokens/{machine_token_id}/revoke",
    response={200: MachineTokenOut, **ERRORS},
)
def revoke_machine_token(request: ApiRequest, machine_token_id: Id):
    token = get_object_or_404(_tokens(request), pk=machine_token_id)
    return actions.revoke_machine_token(request.auth, token)


# --- severity mapping -------------------------------------------------------------------------
class SeverityOut(Schema):
    severity: str
    impact: int
    urgency: int


class SeverityIn(Input):
    severity: str = Field(min_length=1, max_length=40)
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)


@router.get("/monitoring/severities", response=list[SeverityOut])
def list_severities(request: ApiRequest):
    """How an alert's `severity` label becomes the incident's impact and urgency."""
    return list(SeverityMapping.objects.order_by("impact", "urgency", "severity"))


@router.put("/monitoring/severities", response={200: SeverityOut, **ERRORS})
def set_severity(request: ApiRequest, payload: SeverityIn):
    return actions.set_severity(request.auth, payload.severity, payload.impact, payload.urgency)
