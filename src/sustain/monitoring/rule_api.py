"""REST endpoints of threshold rules: list, create, read, change, pause, resume and delete
them, and list a rule's states (one per matched series, or per element of a Prometheus
expression's answer). Managers change; everyone reads what tenancy lets them see."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, Patch
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.monitoring import actions, refs, rules
from sustain.monitoring.models import PrometheusState, RuleState, ThresholdRule

router = Router(tags=["monitoring"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ThresholdMatcherOut(Schema):
    label: str = Field(min_length=1, max_length=rules.LABEL_MAX)
    op: Literal["=", "!=", "=~", "!~"]
    value: str = Field(max_length=rules.VALUE_MAX)


class ThresholdMatcherIn(Input):
    label: str = Field(min_length=1, max_length=rules.LABEL_MAX)
    op: Literal["=", "!=", "=~", "!~"]
    value: str = Field(max_length=rules.VALUE_MAX)


class ThresholdRuleOut(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    source: int = Field(alias="source_id")
    metric: str
    matchers: list[ThresholdMatcherOut]
    window_seconds: int
    aggregation: str
    comparison: str
    warning: float | None
    critical: float | None
    warning_recovery: float | None
    critical_recovery: float | None
    for_seconds: int
    keep_firing_for_seconds: int
    no_data: str
    no_data_after_seconds: int
    interval_seconds: int
    prometheus: int | None = Field(alias="prometheus_id")
    expression: str
    last_error: str
    paused: bool
    next_eval_at: datetime | None
    last_evaluated_at: datetime | None
    created_at: datetime


class ThresholdRuleStateOut(Schema):
    id: int
    series: int | None = Field(None, alias="series_id", description="None: a Prometheus element")
    labels: dict[str, Any] = Field(alias="shown_labels")
    level: str
    pending_since: datetime | None
    keep_until: datetime | None
    value: float | None
    last_data_at: datetime | None
    last_evaluated: datetime | None
    changed_at: datetime


_MATCHERS: Any = Field(default_factory=list, max_length=rules.MATCHERS_MAX)


class ThresholdRuleIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=rules.NAME_MAX)
    metric: str = Field("", max_length=rules.METRIC_MAX)
    matchers: list[ThresholdMatcherIn] = _MATCHERS
    prometheus: int | None = None
    expression: str = Field("", max_length=rules.EXPRESSION_MAX)
    window_seconds: int = Field(300, ge=rules.WINDOW_MIN, le=rules.WINDOW_MAX)
    aggregation: str = Field("avg", max_length=10)
    comparison: str = Field("above", max_length=5)
    warning: float | None = None
    critical: float | None = None
    warning_recovery: float | None = None
    critical_recovery: float | None = None
    for_seconds: int = Field(0, ge=0, le=rules.FOR_MAX)
    keep_firing_for_seconds: int = Field(0, ge=0, le=rules.KEEP_MAX)
    no_data: str = Field("keep", max_length=5)
    no_data_after_seconds: int = Field(600, ge=rules.NO_DATA_MIN, le=rules.NO_DATA_MAX)
    interval_seconds: int = Field(60, ge=rules.INTERVAL_MIN, le=rules.INTERVAL_MAX)


class ThresholdRulePatch(Patch):
    clearable = frozenset(
        {"warning", "critical", "warning_recovery", "critical_recovery", "prometheus"}
    )
    name: str | None = Field(None, min_length=1, max_length=rules.NAME_MAX)
    metric: str | None = Field(None, max_length=rules.METRIC_MAX)
    prometheus: int | None = None
    expression: str | None = Field(None, max_length=rules.EXPRESSION_MAX)
    matchers: list[ThresholdMatcherIn] | None = Field(None, max_length=rules.MATCHERS_MAX)
    window_seconds: int | None = Field(None, ge=rules.WINDOW_MIN, le=rules.WINDOW_MAX)
    aggregation: str | None = Field(None, max_length=10)
    comparison: str | None = Field(None, max_length=5)
    warning: float | None = None
    critical: float | None = None
    warning_recovery: float | None = None
    critical_recovery: float | None = None
    for_seconds: int | None = Field(None, ge=0, le=rules.FOR_MAX)
    keep_firing_for_seconds: int | None = Field(None, ge=0, le=rules.KEEP_MAX)
    no_data: str | None = Field(None, max_length=5)
    no_data_after_seconds: int | None = Field(None, ge=rules.NO_DATA_MIN, le=rules.NO_DATA_MAX)
    interval_seconds: int | None = Field(None, ge=rules.INTERVAL_MIN, le=rules.INTERVAL_MAX)


def _rules(request: ApiRequest):
    return tenancy.visible(ThresholdRule.objects.select_related("organization"), request.auth)


def _rule(request: ApiRequest, threshold_rule_id: int) -> ThresholdRule:
    return get_object_or_404(_rules(request), pk=threshold_rule_id)


@router.get("/monitoring/rules", response=Page[ThresholdRuleOut])
def list_rules(
    request: ApiRequest,
    metric: str | None = None,
    paused: bool | None = None,
    organization: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Threshold rules you may see; filter by metric, paused or customer."""
    rows = _rules(request)
    if metric:
        rows = rows.filter(metric=metric)
    if paused is not None:
        rows = rows.filter(paused=paused)
    if organization:
        rows = rows.filter(organization__slug=organization)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/monitoring/rules", response={201: ThresholdRuleOut, **ERRORS})
def create_rule(request: ApiRequest, payload: ThresholdRuleIn):
    """A threshold rule with its own source, evaluated from the next cycle on."""
    actions.require_manager(request.auth)
    data = refs.with_prometheus(request.auth, payload.dict())
    organization = refs.managed_organization(request.auth, data.pop("organization"))
    return Status(201, rules.create_rule(request.auth, organization, **data))


@router.get("/monitoring/rules/{threshold_rule_id}", response=ThresholdRuleOut)
def get_rule(request: ApiRequest, threshold_rule_id: Id):
    return _rule(request, threshold_rule_id)


@router.patch("/monitoring/rules/{threshold_rule_id}", response={200: ThresholdRuleOut, **ERRORS})
def update_rule(request: ApiRequest, threshold_rule_id: Id, payload: ThresholdRulePatch):
    rule = _rule(request, threshold_rule_id)
    changes = refs.with_prometheus(request.auth, payload.dict(exclude_unset=True))
    return rules.update_rule(request.auth, rule, changes)


@router.post(
    "/monitoring/rules/{threshold_rule_id}/pause", response={200: ThresholdRuleOut, **ERRORS}
)
def pause_rule(request: ApiRequest, threshold_rule_id: Id):
    """Not evaluated until resumed; its firing alerts are resolved."""
    return rules.pause_rule(request.auth, _rule(request, threshold_rule_id))


@router.post(
    "/monitoring/rules/{threshold_rule_id}/resume", response={200: ThresholdRuleOut, **ERRORS}
)
def resume_rule(request: ApiRequest, threshold_rule_id: Id):
    return rules.resume_rule(request.auth, _rule(request, threshold_rule_id))


@router.delete("/monitoring/rules/{threshold_rule_id}", response={204: None, **ERRORS})
def delete_rule(request: ApiRequest, threshold_rule_id: Id):
    rules.delete_rule(request.auth, _rule(request, threshold_rule_id))
    return Status(204, None)


@router.get("/monitoring/rules/{threshold_rule_id}/states", response=Page[ThresholdRuleStateOut])
def list_states(
    request: ApiRequest,
    threshold_rule_id: Id,
    level: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """A rule's states, one per matched series; filter by level."""
    rule = _rule(request, threshold_rule_id)
    rows: Any = RuleState.objects.filter(rule=rule).select_related("series")
    if rule.prometheus_id is not None:
        rows = PrometheusState.objects.filter(rule=rule)
    if level:
        rows = rows.filter(level=level)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}
