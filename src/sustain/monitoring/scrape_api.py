"""REST endpoints of scrape jobs: list, create, read, change, pause, resume, scrape now and
delete them. Their samples are read back as series (series_api), labelled `job` = the name."""

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
from sustain.monitoring import actions, refs, scrapes
from sustain.monitoring.models import ScrapeJob

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
Labels = dict[str, str]
_LABELS = "Extra labels on every series (job and instance are the scrape's own)."


class ScrapeJobOut(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    source: int = Field(alias="source_id")
    config_item: int | None = Field(None, alias="config_item_id")
    url: str
    interval_seconds: int
    timeout_seconds: int
    labels: Labels
    paused: bool
    next_run_at: datetime | None
    status: str = Field(description="new, ok or failed: how the last scrape went.")
    last_run_at: datetime | None
    last_error: str
    last_duration_ms: int | None
    last_samples: int | None = Field(description="Samples in the last answer.")
    last_series: int | None = Field(description="Series the last scrape wrote.")
    created_at: datetime


class ScrapeJobIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=scrapes.NAME_MAX)
    url: str = Field(max_length=2000, description="The endpoint, e.g. http://app:8000/metrics")
    config_item: int | None = None
    interval_seconds: int = Field(60, ge=scrapes.INTERVAL_MIN, le=scrapes.INTERVAL_MAX)
    timeout_seconds: int = Field(
        10, ge=scrapes.TIMEOUT_MIN, le=scrapes.TIMEOUT_MAX, description="Shorter than the interval."
    )
    labels: Labels = Field(default_factory=dict, description=_LABELS)


class ScrapeJobPatch(Patch):
    clearable = frozenset({"config_item"})
    name: str | None = Field(None, min_length=1, max_length=scrapes.NAME_MAX)
    url: str | None = Field(None, max_length=2000)
    config_item: int | None = None
    interval_seconds: int | None = Field(None, ge=scrapes.INTERVAL_MIN, le=scrapes.INTERVAL_MAX)
    timeout_seconds: int | None = Field(None, ge=scrapes.TIMEOUT_MIN, le=scrapes.TIMEOUT_MAX)
    labels: Labels | None = None


def _jobs(request: ApiRequest):
    return tenancy.visible(ScrapeJob.objects.select_related("organization"), request.auth)


def _job(request: ApiRequest, scrape_job_id: int) -> ScrapeJob:
    return get_object_or_404(_jobs(request), pk=scrape_job_id)


@router.get("/monitoring/scrape-jobs", response=Page[ScrapeJobOut])
def list_scrape_jobs(
    request: ApiRequest,
    status: str | None = None,
    paused: bool | None = None,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Scrape jobs you may see; filter by last status, paused or customer."""
    rows = _jobs(request)
    if status:
        rows = rows.filter(status=status)
    if paused is not None:
        rows = rows.filter(paused=paused)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/scrape-jobs", response={201: ScrapeJobOut, **ERRORS})
def create_scrape_job(request: ApiRequest, payload: ScrapeJobIn):
    """A scrape job of a Prometheus text-format endpoint, with its own alert source; it is
    scraped at once, then every interval."""
    actions.require_manager(request.auth)
    data = refs.with_item(request.auth, payload.dict())
    organization = refs.managed_organization(request.auth, data.pop("organization"))
    return Status(201, actions.create_scrape_job(request.auth, organization, **data))


@router.get("/monitoring/scrape-jobs/{scrape_job_id}", response=ScrapeJobOut)
def get_scrape_job(request: ApiRequest, scrape_job_id: Id):
    return _job(request, scrape_job_id)


@router.patch("/monitoring/scrape-jobs/{scrape_job_id}", response={200: ScrapeJobOut, **ERRORS})
def update_scrape_job(request: ApiRequest, scrape_job_id: Id, payload: ScrapeJobPatch):
    job = _job(request, scrape_job_id)
    changes = refs.with_item(request.auth, payload.dict(exclude_unset=True))
    return actions.update_scrape_job(request.auth, job, changes)


@router.post(
    "/monitoring/scrape-jobs/{scrape_job_id}/pause", response={200: ScrapeJobOut, **ERRORS}
)
def pause_scrape_job(request: ApiRequest, scrape_job_id: Id):
    """Never scraped until resumed; its firing alert is resolved."""
    return actions.pause_scrape_job(request.auth, _job(request, scrape_job_id))


@router.post(
    "/monitoring/scrape-jobs/{scrape_job_id}/resume", response={200: ScrapeJobOut, **ERRORS}
)
def resume_scrape_job(request: ApiRequest, scrape_job_id: Id):
    return actions.resume_scrape_job(request.auth, _job(request, scrape_job_id))


@router.post(
    "/monitoring/scrape-jobs/{scrape_job_id}/scrape", response={200: ScrapeJobOut, **ERRORS}
)
def scrape_now(request: ApiRequest, scrape_job_id: Id):
    """Due now: the scheduler scrapes it within a second or so (409 while paused)."""
    return actions.scrape_now(request.auth, _job(request, scrape_job_id))


@router.delete("/monitoring/scrape-jobs/{scrape_job_id}", response={204: None, **ERRORS})
def delete_scrape_job(request: ApiRequest, scrape_job_id: Id):
    """The job and its alert source go; its series stay."""
    actions.delete_scrape_job(request.auth, _job(request, scrape_job_id))
    return Status(204, None)
