"""REST endpoints for calendars (with the what-if due date) and SLA policies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sustain.accounts.actions import resolve_organization
from sustain.accounts.models import Team, User
from sustain.cmdb import refs as cmdb_refs
from sustain.core import businesstime, refs
from sustain.core.api import Id, Input, Page, Patch, UtcDateTime
from sustain.core.errors import Conflict, Invalid
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk.models import Ticket
from sustain.sla import actions, config, oncall
from sustain.sla.models import Calendar, EscalationRule, Metric, OnCallSchedule, Policy
from sustain.sla.models import Page as OnCallPage

router = Router(tags=["sla"])


class CalendarIn(Input):
    name: str = Field(min_length=1, max_length=100)
    timezone: str = Field("UTC", max_length=64)
    hours: dict[str, list[list[str]]] = Field(
        default_factory=dict, examples=[{"mon": [["09:00", "17:00"]]}]
    )
    holidays: list[str] = Field(default_factory=list, examples=[["2026-12-25"]])
    always: bool = False
    organization: int | str | None = None


class CalendarPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=100)
    timezone: str | None = Field(None, max_length=64)
    hours: dict[str, list[list[str]]] | None = None
    holidays: list[str] | None = None
    always: bool | None = None


class HolidayOut(Schema):
    date: date
    name: str


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str
    always: bool
    hours: dict[str, Any]
    organization: str | None = Field(None, alias="organization.slug")
    holidays: list[HolidayOut]

    @staticmethod
    def resolve_holidays(calendar: Calendar) -> list[Any]:
        return list(calendar.holidays.all())


class HolidayImportIn(Input):
    country: str = Field(min_length=2, max_length=3, examples=["DE"])
    subdivision: str = Field("", max_length=10, examples=["BY"])
    year: int = Field(ge=1990, le=2100)


class DueOut(Schema):
    due: datetime


class TargetSchema(Input):
    priority: int = Field(ge=1, le=4)
    metric: Metric
    minutes: int = Field(gt=0, le=10_000_000)


class TargetOut(Schema):
    priority: int
    metric: Metric
    minutes: int


class PolicyIn(Input):
    name: str = Field(min_length=1, max_length=100)
    order: int = Field(100, ge=0)
    active: bool = True
    calendar: Id
    organization: int | str | None = None
    kind: str = Field("", pattern=r"^(|incident|request)$")
    priority: int | None = Field(None, ge=1, le=4)
    product: str | None = None
    config_item: Id | None = None
    warn_percent: int = Field(75, ge=1, le=99)
    pause_statuses: list[str] = ["pending"]
    targets: list[TargetSchema] = []


class PolicyPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=100)
    order: int | None = Field(None, ge=0)
    active: bool | None = None
    calendar: Id | None = None
    warn_percent: int | None = Field(None, ge=1, le=99)
    pause_statuses: list[str] | None = None
    targets: list[TargetSchema] | None = None


class PolicyOut(Schema):
    id: int
    name: str
    order: int
    active: bool
    calendar: int = Field(alias="calendar_id")
    organization: str | None = Field(None, alias="organization.slug")
    kind: str
    priority: int | None
    product: str | None = Field(None, alias="product.slug")
    config_item: int | None = Field(None, alias="config_item_id")
    warn_percent: int
    pause_statuses: list[str]
    targets: list[TargetOut]

    @staticmethod
    def resolve_targets(policy: Policy) -> list[Any]:
        return list(policy.targets.all())


def _calendars(request: ApiRequest):
    return visible(
        Calendar.objects.select_related("organization").prefetch_related("holidays"), request.auth
    )


def _calendar(request: ApiRequest, calendar_id: Id) -> Calendar:
    return get_object_or_404(_calendars(request), pk=calendar_id)


@router.get("/sla/calendars", response=Page[CalendarOut])
def list_calendars(request: ApiRequest, cursor: str | None = None, limit: int | None = None):
    rows, next_url = paginate(
        request, _calendars(request), order=("id",), limit=limit, cursor=cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/sla/calendars", response={201: CalendarOut})
def create_calendar(request: ApiRequest, payload: CalendarIn):
    organization = resolve_organization(payload.organization) if payload.organization else None
    calendar = actions.create_calendar(
        request.auth,
        name=payload.name,
        timezone_name=payload.timezone,
        hours=payload.hours,
        always=payload.always,
        holidays=payload.holidays,
        organization=organization,
    )
    return Status(201, _calendar(request, calendar.pk))


@router.get("/sla/calendars/{calendar_id}", response=CalendarOut)
def get_calendar(request: ApiRequest, calendar_id: Id):
    return _calendar(request, calendar_id)


@router.patch("/sla/calendars/{calendar_id}", response=CalendarOut)
def update_calendar(request: ApiRequest, calendar_id: Id, payload: CalendarPatch):
    changes = payload.dict(exclude_unset=True)
    if "timezone" in changes:
        changes["timezone_name"] = changes.pop("timezone")
    actions.update_calendar(request.auth, _calendar(request, calendar_id), **changes)
    return _calendar(request, calendar_id)


@router.post("/sla/calendars/{calendar_id}/holidays/import", response=CalendarOut)
def import_holidays(request: ApiRequest, calendar_id: Id, payload: HolidayImportIn):
    actions.import_holidays(request.auth, _calendar(request, calendar_id), **payload.dict())
    return _calendar(request, calendar_id)


@router.get("/sla/calendars/{calendar_id}/due", response=DueOut)
def due(
    request: ApiRequest,
    calendar_id: Id,
    start: UtcDateTime,
    minutes: int = Query(..., ge=0, le=10_000_000),
):
    """The instant `minutes` business minutes after `start` (ISO 8601 with an offset)."""
    if start.tzinfo is None:
        raise Invalid("start needs a UTC offset, e.g. 2026-12-01T09:00:00+01:00.", field="start")
    try:
        schedule = config.current().calendar_schedule(_calendar(request, calendar_id))
    except businesstime.ScheduleError as exc:
        raise Conflict(str(exc)) from None
    try:
        return {"due": businesstime.add(schedule, start, minutes * 60)}
    except businesstime.ScheduleError as exc:
        raise Invalid(str(exc), field="minutes") from None
    except (OverflowError, ValueError):
        # Past year 9999 the sum leaves what dates hold (core.instants keeps starts well before).
        raise Invalid(
            "start plus minutes lies past the last date there is.", field="start"
        ) from None


def _policies(request: ApiRequest):
    return visible(
        Policy.objects.select_related("organization", "product").prefetch_related("targets"),
        request.auth,
    )


def _policy_fields(request: ApiRequest, data: dict) -> dict:
    if "calendar" in data:
        found = refs.find(request.auth, Calendar.objects.all(), data["calendar"], by=("pk",))
        if found is None:
            raise Invalid(f"No calendar {data['calendar']}.", field="calendar")
        data["calendar"] = found
    if data.get("organization") is not None:
        data["organization"] = resolve_organization(data["organization"])
    if data.get("product"):
        data["product"] = cmdb_refs.product(request.auth, data["product"], by=("slug",))
    if data.get("config_item") is not None:
        data["config_item"] = cmdb_refs.config_item(
            request.auth, data["config_item"], "config_item"
        )
    return data


@router.get("/sla/policies", response=Page[PolicyOut])
def list_policies(request: ApiRequest, cursor: str | None = None, limit: int | None = None):
    rows, next_url = paginate(
        request, _policies(request), order=("order", "id"), limit=limit, cursor=cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/sla/policies", response={201: PolicyOut})
def create_policy(request: ApiRequest, payload: PolicyIn):
    policy = actions.create_policy(request.auth, **_policy_fields(request, payload.dict()))
    return Status(201, get_object_or_404(_policies(request), pk=policy.pk))


@router.get("/sla/policies/{policy_id}", response=PolicyOut)
def get_policy(request: ApiRequest, policy_id: Id):
    return get_object_or_404(_policies(request), pk=policy_id)


@router.patch("/sla/policies/{policy_id}", response=PolicyOut)
def update_policy(request: ApiRequest, policy_id: Id, payload: PolicyPatch):
    policy = get_policy(request, policy_id)
    actions.update_policy(
        request.auth, policy, **_policy_fields(request, payload.dict(exclude_unset=True))
    )
    return get_policy(request, policy_id)


# --- on-call ---------------------------------------------------------------------------
class ScheduleIn(Input):
    team: str
    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    participants: list[str] = Field(
        min_length=1, description="E-mail addresses, in rotation order."
    )
    rotation_start: date
    timezone: str = "UTC"
    shift_hours: int = Field(24 * 7, ge=1, le=24 * 366)
    handover: str = Field("09:00", pattern=r"^\d{2}:\d{2}$")
    ack_minutes: int = Field(15, ge=1, le=24 * 60)


class ScheduleOut(Schema):
    id: int
    slug: str
    name: str
    team: str = Field(alias="team.slug")
    timezone: str
    shift_hours: int
    handover: str
    rotation_start: date
    ack_minutes: int
    participants: list[str]

    @staticmethod
    def resolve_handover(schedule: OnCallSchedule) -> str:
        return schedule.handover.strftime("%H:%M")

    @staticmethod
    def resolve_participants(schedule: OnCallSchedule) -> list[str]:
        return [p.user.email for p in schedule.participants.all()]


class OnCallNowOut(Schema):
    schedule: str
    at: datetime
    user: str | None
    name: str | None
    source: str


class OverrideIn(Input):
    user: str
    start: UtcDateTime
    end: UtcDateTime


class PageOut(Schema):
    id: int
    schedule: str = Field(alias="schedule.slug")
    ticket: str | None = Field(None, alias="ticket.key")
    user: str = Field(alias="user.email")
    reason: str
    attempt: int
    created_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    escalated_at: datetime | None


def _schedules(request: ApiRequest):
    return visible(
        OnCallSchedule.objects.select_related("team").prefetch_related("participants__user"),
        request.auth,
    )


def _schedule(request: ApiRequest, slug: str) -> OnCallSchedule:
    return get_object_or_404(_schedules(request), slug=slug)


def _agent(request: ApiRequest, email: str, field: str) -> User:
    user = refs.find(request.auth, User.objects.all(), email, by=("email__iexact",))
    if user is None:
        raise Invalid(f"No user '{email}'.", field=field)
    return user


def _team(request: ApiRequest, slug: str, field: str = "team") -> Team:
    team = refs.find(request.auth, Team.objects.all(), slug, by=("slug",))
    if team is None:
        raise Invalid(f"No team '{slug}'.", field=field)
    return team


@router.get("/oncall", response=list[ScheduleOut], tags=["on-call"])
def list_schedules(request: ApiRequest):
    return list(_schedules(request).order_by("name")[:200])


@router.post("/oncall", response={201: ScheduleOut}, tags=["on-call"])
def create_schedule(request: ApiRequest, payload: ScheduleIn):
    team = _team(request, payload.team)
    data = payload.dict()
    data.update(
        team=team,
        participants=[_agent(request, e, "participants") for e in payload.participants],
        timezone_name=data.pop("timezone"),
    )
    schedule = actions.create_schedule(request.auth, **data)
    return Status(201, _schedule(request, schedule.slug))


@router.get("/oncall/pages", response=list[PageOut], tags=["on-call"])
def list_pages(request: ApiRequest, open_only: bool = True):
    """Pages sent to you (managers: to everyone), newest first."""
    pages = visible(OnCallPage.objects.select_related("schedule", "ticket", "user"), request.auth)
    pages = pages.order_by("-id")
    if not request.auth.is_manager:
        pages = pages.filter(user=request.auth)
    # Never a ticket the reader may not see (pages written before paging checked it).
    pages = pages.filter(
        Q(ticket__isnull=True) | Q(ticket__in=visible(Ticket.objects.all(), request.auth))
    )
    if open_only:
        pages = pages.filter(acknowledged_at__isnull=True, escalated_at__isnull=True)
    return list(pages[:200])


@router.post("/oncall/pages/{page_id}/ack", response=PageOut, tags=["on-call"])
def acknowledge(request: ApiRequest, page_id: Id):
    page = get_object_or_404(
        OnCallPage.objects.select_related("schedule", "ticket", "user"), pk=page_id
    )
    if not request.auth.is_agent:
        raise Http404("No such page.")
    actions.acknowledge(request.auth, page)
    return page


@router.get("/oncall/{slug}", response=ScheduleOut, tags=["on-call"])
def get_schedule(request: ApiRequest, slug: str):
    return _schedule(request, slug)


@router.get("/oncall/{slug}/now", response=OnCallNowOut, tags=["on-call"])
def on_call_now(request: ApiRequest, slug: str, at: UtcDateTime | None = None):
    """Who is on call now, or at `at` (ISO 8601 with an offset)."""
    if at is not None and at.tzinfo is None:
        raise Invalid("at needs a UTC offset.", field="at")
    when = at or timezone.now()
    schedule = _schedule(request, slug)
    user, source = oncall.on_call(schedule, when)
    return {
        "schedule": schedule.slug,
        "at": when,
        "user": getattr(user, "email", None),
        "name": getattr(user, "name", None),
        "source": source,
    }


@router.post("/oncall/{slug}/overrides", response={201: OnCallNowOut}, tags=["on-call"])
def add_override(request: ApiRequest, slug: str, payload: OverrideIn):
    for field in ("start", "end"):
        if getattr(payload, field).tzinfo is None:
            raise Invalid(f"{field} needs a UTC offset.", field=field)
    schedule = _schedule(request, slug)
    user = _agent(request, payload.user, "user")
    actions.add_override(request.auth, schedule, user=user, start=payload.start, end=payload.end)
    return Status(201, on_call_now(request, slug, payload.start))


# --- escalation rules --------------------------------------------------------------------
class LevelSchema(Input):
    delay_minutes: int = Field(0, ge=0, le=60 * 24 * 30)
    actions: list[dict[str, Any]] = Field(
        min_length=1, examples=[[{"do": "notify", "who": "team_lead"}, {"do": "raise_priority"}]]
    )


class LevelOut(Schema):
    delay_minutes: int
    actions: list[dict[str, Any]]


class RuleIn(Input):
    name: str = Field(min_length=1, max_length=100)
    condition: EscalationRule.Condition
    minutes: int = Field(0, ge=0, le=60 * 24 * 30)
    metric: Metric | None = None
    urgent: bool = False
    organization: int | str | None = None
    priority: int | None = Field(None, ge=1, le=4)
    team: str | None = None
    levels: list[LevelSchema] = Field(min_length=1)


class RuleOut(Schema):
    id: int
    name: str
    active: bool
    condition: str
    minutes: int
    metric: str
    urgent: bool
    organization: str | None = Field(None, alias="organization.slug")
    priority: int | None
    team: str | None = Field(None, alias="team.slug")
    levels: list[LevelOut]

    @staticmethod
    def resolve_levels(rule: EscalationRule) -> list[Any]:
        return list(rule.levels.all())


def _rules(request: ApiRequest):
    return visible(
        EscalationRule.objects.select_related("organization", "team").prefetch_related("levels"),
        request.auth,
    )


@router.get("/sla/escalation-rules", response=list[RuleOut])
def list_rules(request: ApiRequest):
    return list(_rules(request)[:500])


@router.post("/sla/escalation-rules", response={201: RuleOut})
def create_rule(request: ApiRequest, payload: RuleIn):
    data = payload.dict()
    levels = data.pop("levels")
    data["metric"] = data["metric"] or ""
    if data["organization"] is not None:
        data["organization"] = resolve_organization(data["organization"])
    if data["team"]:
        data["team"] = _team(request, data["team"])
    else:
        data["team"] = None  # "" means any team, as null does
    rule = actions.create_escalation_rule(request.auth, levels=levels, **data)
    return Status(201, get_object_or_404(_rules(request), pk=rule.pk))


@router.delete("/sla/calendars/{calendar_id}", response={204: None})
def delete_calendar(request: ApiRequest, calendar_id: Id):
    actions.delete_calendar(request.auth, _calendar(request, calendar_id))
    return Status(204, None)


@router.delete("/sla/policies/{policy_id}", response={204: None})
def delete_policy(request: ApiRequest, policy_id: Id):
    actions.delete_policy(request.auth, get_policy(request, policy_id))
    return Status(204, None)


class RulePatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=100)
    active: bool | None = None
    urgent: bool | None = None
    minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)
    levels: list[LevelSchema] | None = Field(None, min_length=1)


@router.get("/sla/escalation-rules/{rule_id}", response=RuleOut)
def get_rule(request: ApiRequest, rule_id: Id):
    return get_object_or_404(_rules(request), pk=rule_id)


@router.patch("/sla/escalation-rules/{rule_id}", response=RuleOut)
def update_rule(request: ApiRequest, rule_id: Id, payload: RulePatch):
    changes = payload.dict(exclude_unset=True)
    actions.update_escalation_rule(request.auth, get_rule(request, rule_id), **changes)
    return get_rule(request, rule_id)


@router.delete("/sla/escalation-rules/{rule_id}", response={204: None})
def delete_rule(request: ApiRequest, rule_id: Id):
    actions.delete_escalation_rule(request.auth, get_rule(request, rule_id))
    return Status(204, None)


class SchedulePatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=100)
    participants: list[str] | None = Field(None, min_length=1)
    rotation_start: date | None = None
    shift_hours: int | None = Field(None, ge=1, le=24 * 366)
    ack_minutes: int | None = Field(None, ge=1, le=24 * 60)


@router.patch("/oncall/{slug}", response=ScheduleOut, tags=["on-call"])
def update_schedule(request: ApiRequest, slug: str, payload: SchedulePatch):
    schedule = _schedule(request, slug)
    changes = payload.dict(exclude_unset=True)
    if "participants" in changes:
        changes["participants"] = [
            _agent(request, e, "participants") for e in changes["participants"]
        ]
    actions.update_schedule(request.auth, schedule, **changes)
    return _schedule(request, slug)


@router.delete("/oncall/{slug}", response={204: None}, tags=["on-call"])
def delete_schedule(request: ApiRequest, slug: str):
    actions.delete_schedule(request.auth, _schedule(request, slug))
    return Status(204, None)
