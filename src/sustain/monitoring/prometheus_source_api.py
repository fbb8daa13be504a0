"""REST endpoints of Prometheus data sources: list, create, read, change and delete them, and
test one's connection (`vector(1)`). Managers write; everyone reads what tenancy lets them
see. The secrets are write-only: an answer says whether one is set, never its value."""

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
from sustain.monitoring import actions, refs
from sustain.monitoring import prometheus_sources as sources
from sustain.monitoring.models import PrometheusSource

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class PrometheusSourceOut(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    base_url: str
    username: str
    has_bearer_token: bool
    has_password: bool
    timeout_seconds: int
    checked_at: datetime | None
    check_error: str
    created_at: datetime

    @staticmethod
    def resolve_has_bearer_token(obj: PrometheusSource) -> bool:
        return bool(obj.bearer_token)

    @staticmethod
    def resolve_has_password(obj: PrometheusSource) -> bool:
        return bool(obj.password)


class PrometheusTestOut(Schema):
    ok: bool
    error: str
    checked_at: datetime | None


class PrometheusSourceIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=sources.NAME_MAX)
    base_url: str = Field(min_length=1, max_length=sources.URL_MAX)
    bearer_token: str = Field("", max_length=sources.TOKEN_MAX)
    username: str = Field("", max_length=sources.USER_MAX)
    password: str = Field("", max_length=sources.PASSWORD_MAX)
    timeout_seconds: int = Field(10, ge=sources.TIMEOUT_MIN, le=sources.TIMEOUT_MAX)


class PrometheusSourcePatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=sources.NAME_MAX)
    base_url: str | None = Field(None, min_length=1, max_length=sources.URL_MAX)
    bearer_token: str | None = Field(None, max_length=sources.TOKEN_MAX, description='"": none')
    username: str | None = Field(None, max_length=sources.USER_MAX)
    password: str | None = Field(None, max_length=sources.PASSWORD_MAX, description='"": none')
    timeout_seconds: int | None = Field(None, ge=sources.TIMEOUT_MIN, le=sources.TIMEOUT_MAX)


def _sources(request: ApiRequest):
    return tenancy.visible(PrometheusSource.objects.select_related("organization"), request.auth)


def _source(request: ApiRequest, prometheus_source_id: int) -> PrometheusSource:
    return get_object_or_404(_sources(request), pk=prometheus_source_id)


@router.get("/monitoring/prometheus-sources", response=Page[PrometheusSourceOut])
def list_sources(
    request: ApiRequest,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Prometheus servers rules may read from; filter by customer."""
    rows = _sources(request)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/prometheus-sources", response={201: PrometheusSourceOut, **ERRORS})
def create_source(request: ApiRequest, payload: PrometheusSourceIn):
    actions.require_manager(request.auth)
    data = payload.dict()
    organization = refs.managed_organization(request.auth, data.pop("organization"))
    return Status(201, sources.create_source(request.auth, organization, **data))


@router.get("/monitoring/prometheus-sources/{prometheus_source_id}", response=PrometheusSourceOut)
def get_source(request: ApiRequest, prometheus_source_id: Id):
    return _source(request, prometheus_source_id)


@router.patch(
    "/monitoring/prometheus-sources/{prometheus_source_id}",
    response={200: PrometheusSourceOut, **ERRORS},
)
def update_source(request: ApiRequest, prometheus_source_id: Id, payload: PrometheusSourcePatch):
    found = _source(request, prometheus_source_id)
    return sources.update_source(request.auth, found, payload.dict(exclude_unset=True))


@router.delete(
    "/monitoring/prometheus-sources/{prometheus_source_id}", response={204: None, **ERRORS}
)
def delete_source(request: ApiRequest, prometheus_source_id: Id):
    """Refused (409) while rules read from it."""
    sources.delete_source(request.auth, _source(request, prometheus_source_id))
    return Status(204, None)


@router.post(
    "/monitoring/prometheus-sources/{prometheus_source_id}/test",
    response={200: PrometheusTestOut, **ERRORS},
)
def test_source(request: ApiRequest, prometheus_source_id: Id):
    """Ask the server `vector(1)`; the outcome is kept on the source too."""
    found = _source(request, prometheus_source_id)
    answer = sources.test_connection(request.auth, found)
    return {"ok": not answer.error, "error": answer.error, "checked_at": found.checked_at}
