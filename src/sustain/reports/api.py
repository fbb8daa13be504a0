"""REST endpoints of the SLA reports: compliance, mean times in business hours, breaches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from sustain.core.api import Page
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.reports import queries
from sustain.sla.models import Metric

router = Router(tags=["reports"])

RANGE_HELP = "A month (2026-09), a day (2026-09-15) or an ISO 8601 time, in your time zone."


class ReportParams(Schema):
    organization: str | None = Field(None, description="A customer's slug.")
    priority: int | None = Field(None, ge=1, le=4)
    metric: Metric | None = None
    since: str | None = Field(None, description=f"Tickets created from. {RANGE_HELP}")
    until: str | None = Field(
        None, description=f"Tickets created up to (a month or day: all of it). {RANGE_HELP}"
    )


class BreachParams(ReportParams):
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class ComplianceRowOut(Schema):
    month: str = Field(examples=["2026-11"])
    organization: str
    priority: int
    metric: str
    met: int
    breached: int
    in_progress: int
    compliance: float | None = Field(description="met / (met + breached); null when neither.")


class ComplianceOut(Schema):
    rows: list[ComplianceRowOut]


class TimesRowOut(Schema):
    organization: str
    priority: int
    acknowledged: int = Field(description="Tickets whose first response was given.")
    mean_time_to_acknowledge_hours: float | None = Field(alias="acknowledge_hours")
    resolved: int
    mean_time_to_resolve_hours: float | None = Field(alias="resolve_hours")


class TimesOut(Schema):
    rows: list[TimesRowOut]


class BreachOut(Schema):
    ticket: str
    title: str
    organization: str
    priority: int
    metric: str
    due_at: datetime | None
    breached_at: datetime | None
    met_at: datetime | None
    late_seconds: int = Field(description="From due to met, or to now while not met.")
    url: str

    @staticmethod
    def resolve_url(row: queries.Breach, context: dict[str, Any]) -> str:
        request = context["request"]
        name = "portal:ticket" if request.auth.is_customer else "desk:ticket"
        return request.build_absolute_uri(reverse(name, args=[row.ticket]))


def _filters(request: ApiRequest, params: ReportParams) -> queries.ReportFilters:
    return queries.ReportFilters.from_params(params.dict(exclude_none=True), request.auth)


@router.get("/reports/sla/compliance", response=ComplianceOut)
def compliance(request: ApiRequest, params: Query[ReportParams]):
    """Met, breached and in-progress SLA clocks per month of ticket creation, customer,
    priority and metric."""
    return {"rows": queries.compliance(request.auth, _filters(request, params))}


@router.get("/reports/sla/times", response=TimesOut)
def times(request: ApiRequest, params: Query[ReportParams]):
    """Mean time to acknowledge (first response) and to resolve, in business hours, per
    customer and priority."""
    return {"rows": queries.times(request.auth, _filters(request, params))}


@router.get("/reports/sla/breaches", response=Page[BreachOut])
def breaches(request: ApiRequest, params: Query[BreachParams]):
    """Breached SLA clocks, newest tickets first, with how late each was."""
    qs = queries.breaches(request.auth, _filters(request, params))
    rows, next_url = paginate(
        request, qs, order=queries.BREACH_ORDER, limit=params.limit, cursor=params.cursor
    )
    now = timezone.now()
    return {"results": [queries.breach(clock, now) for clock in rows], "next": next_url}
