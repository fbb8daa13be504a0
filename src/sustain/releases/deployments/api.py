"""REST endpoints for deployments and the install base. Staff schedule and move deployments;
customers read their organization's deployments and updates, in a smaller shape."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from ninja import Query, Router, Status

from sustain.accounts.actions import require_agent, resolve_organization
from sustain.bugs.models import Bug
from sustain.cmdb.models import ConfigItem
from sustain.core.api import Id, Page
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.releases.deployments import actions, installbase
from sustain.releases.deployments.schemas import (
    AffectedEnvironmentOut,
    DeploymentFilters,
    DeploymentIn,
    DeploymentOut,
    DeploymentPublicOut,
    DeploymentTransitionIn,
    EnvironmentUpdatesOut,
    ShippedOut,
    UpdateOut,
)
from sustain.releases.models import Deployment, Release

router = Router(tags=["deployments"])

AnyDeployment = DeploymentOut | DeploymentPublicOut
RELATIONS = (
    "release__version",
    "release__product",
    "environment__organization",
    "environment__product",
    "environment__version",
    "organization",
    "previous_version",
    "created_by",
)


def _out(user: Any, deployment: Deployment) -> Any:
    """The staff shape, or the customer's as a plain mapping (keyed by alias) that the staff
    schema of the response union cannot take: customers never get the internal fields."""
    if user.is_customer:
        return DeploymentPublicOut.from_orm(deployment).model_dump(by_alias=True)
    return deployment


def _deployments(user: Any) -> QuerySet[Deployment]:
    return visible(Deployment.objects.select_related(*RELATIONS), user)


def _deployment(request: ApiRequest, deployment_id: Id) -> Deployment:
    deployment = _deployments(request.auth).filter(pk=deployment_id).first()
    if deployment is None:
        raise Http404(f"No deployment {deployment_id}.")
    return deployment


def _environment(user: Any, environment_id: Id, field: str = "environment") -> ConfigItem:
    item = (
        visible(ConfigItem.objects.select_related("organization", "product", "version"), user)
        .filter(pk=environment_id)
        .first()
    )
    if item is None:
        raise Http404(f"No environment {environment_id}.")
    return item


def _bug(user: Any, key: str) -> Bug:
    bug = visible(Bug.objects.filter(key=key.strip().upper()), user).first()
    if bug is None:
        raise Http404(f"No bug {key}.")
    return bug


def _release(ref: int) -> Release:
    release = Release.objects.select_related("version", "product").filter(pk=ref).first()
    if release is None:
        raise Invalid(f"No release {ref}.", field="release")
    return release


@router.get("/deployments", response=Page[AnyDeployment])
def list_deployments(request: ApiRequest, filters: Query[DeploymentFilters]):
    """Deployments, newest first; customers see their organization's."""
    qs = _deployments(request.auth)
    if filters.release is not None:
        qs = qs.filter(release_id=filters.release)
    if filters.environment is not None:
        qs = qs.filter(environment_id=filters.environment)
    if filters.status:
        statuses = [s.strip() for s in filters.status.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in Deployment.Status.values]
        if unknown:
            raise Invalid(f"Unknown status '{unknown[0]}'.", field="status")
        qs = qs.filter(status__in=statuses)
    if filters.organization:
        qs = qs.filter(organization=resolve_organization(filters.organization))
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": [_out(request.auth, d) for d in rows], "next": next_url}


@router.post("/deployments", response={201: DeploymentOut})
def schedule_deployment(request: ApiRequest, payload: DeploymentIn):
    """Schedule putting a release on an environment (staff)."""
    require_agent(request.auth)
    release = _release(payload.release)
    environment = (
        visible(ConfigItem.objects.select_related("organization", "version"), request.auth)
        .filter(pk=payload.environment)
        .first()
    )
    if environment is None:
        raise Invalid(f"No environment {payload.environment}.", field="environment")
    deployment = actions.schedule_deployment(
        request.auth,
        release=release,
        environment=environment,
        scheduled_for=payload.scheduled_for,
        note=payload.note,
    )
    return Status(201, _deployment(request, deployment.pk))


@router.get("/deployments/{deployment_id}", response=AnyDeployment)
def get_deployment(request: ApiRequest, deployment_id: Id):
    return _out(request.auth, _deployment(request, deployment_id))


@router.post("/deployments/{deployment_id}/transition", response=DeploymentOut)
def transition_deployment(request: ApiRequest, deployment_id: Id, payload: DeploymentTransitionIn):
    """Start, succeed, fail or roll back a deployment (staff); success sets the environment's
    version and tells the customers whose fixes arrived."""
    deployment = _deployment(request, deployment_id)
    actions.transition(request.auth, deployment, payload.status, reason=payload.reason)
    return _deployment(request, deployment_id)


@router.get("/bugs/{bug_key}/affected-environments", response=Page[AffectedEnvironmentOut])
def affected_environments(
    request: ApiRequest, bug_key: str, cursor: str | None = None, limit: int | None = None
):
    """Environments running a version the bug affects (customers: their own)."""
    bug = _bug(request.auth, bug_key)
    qs = visible(installbase.affected_environments(bug), request.auth)
    rows, next_url = paginate(request, qs, order=("id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}


@router.get("/bugs/{bug_key}/shipped", response=list[ShippedOut])
def shipped(request: ApiRequest, bug_key: str):
    """Environments a release carrying the fix was deployed to, still running it or later."""
    bug = _bug(request.auth, bug_key)
    environments = visible(ConfigItem.objects.all(), request.auth)
    return [
        {
            "environment": s.environment,
            "release": s.release.name,
            "deployment": s.deployment.pk,
            "deployed_at": s.deployment.finished_at,
        }
        for s in installbase.shipped_to(bug, environments)
    ]


@router.get("/environments/{environment_id}/updates", response=EnvironmentUpdatesOut)
def environment_updates(request: ApiRequest, environment_id: Id):
    """The released versions the environment is behind, oldest first, with the bugs each
    fixes and which of them its organization reported."""
    environment = _environment(request.auth, environment_id)
    updates = installbase.pending_updates(environment)
    return {
        "environment": environment,
        "behind": len(updates),
        "updates": [UpdateOut.from_update(u) for u in updates],
    }
