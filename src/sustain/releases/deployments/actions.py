"""Deployments: a release put onto an environment, scheduled → in progress → succeeded, failed
or rolled back. Success sets the environment's version and tells the customers whose fixes
arrived (notices.py), in the same transaction.

Rules:
- Staff (agents) deploy; customers read their organization's deployments.
- The environment is a configuration item of the release's product (any kind: an
  environment, or a server running the product), not retired.
- Planned and withdrawn releases are never deployed. A release in testing goes only to the
  provider's own environments (test, staging); customers' environments take approved or
  released versions.
- One deployment in progress per environment (a database constraint backs the check).
- A rollback returns the environment to the version it ran before, and only while it still
  runs the rolled-back release.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.cmdb.models import ConfigItem, Version
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Invalid, NotFound
from sustain.core.locking import locked
from sustain.releases.deployments import notices
from sustain.releases.models import Deployment, Release, Status

DeploymentStatus = Deployment.Status

TRANSITIONS: dict[str, set[str]] = {
    # Failing a scheduled deployment calls it off (with the reason on the record).
    DeploymentStatus.SCHEDULED: {DeploymentStatus.IN_PROGRESS, DeploymentStatus.FAILED},
    DeploymentStatus.IN_PROGRESS: {DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED},
    DeploymentStatus.SUCCEEDED: {DeploymentStatus.ROLLED_BACK},
    DeploymentStatus.FAILED: set(),
    DeploymentStatus.ROLLED_BACK: set(),
}
# Release statuses each kind of environment may receive.
DEPLOYABLE_TO_CUSTOMERS = {Status.APPROVED, Status.RELEASED}
DEPLOYABLE_TO_PROVIDER = {Status.TESTING, Status.APPROVED, Status.RELEASED}
NOTE_MAX = 5000


def snapshot(deployment: Deployment) -> dict[str, Any]:
    return {
        "status": deployment.status,
        "release": deployment.release.name,
        "environment": deployment.environment.name,
        "scheduled_for": deployment.scheduled_for.isoformat() if deployment.scheduled_for else None,
    }


def _version_name(version: Version | None) -> str | None:
    return version.name if version is not None else None


def check_can_read(actor: User, deployment: Deployment) -> None:
    if not tenancy.visible(Deployment.objects.filter(pk=deployment.pk), actor).exists():
        raise NotFound(f"No deployment {deployment.pk}.")


def deployable_statuses(environment: ConfigItem) -> set[Status]:
    """The release statuses an environment may take: internal ones test before approval."""
    if environment.organization.is_provider:
        return DEPLOYABLE_TO_PROVIDER
    return DEPLOYABLE_TO_CUSTOMERS


def _check_target(actor: User, release: Release, environment: ConfigItem) -> None:
    if not tenancy.visible(ConfigItem.objects.filter(pk=environment.pk), actor).exists():
        raise NotFound(f"No environment {environment.pk}.", field="environment")
    if environment.product_id != release.product_id:
        raise Invalid(
            f"{environment.name} does not run {release.product.name}.", field="environment"
        )
    if environment.status == ConfigItem.Status.RETIRED:
        raise Invalid(f"{environment.name} is retired.", field="environment")
    provider = environment.organization.is_provider
    allowed = deployable_statuses(environment)
    if release.status not in allowed:
        where = "internal environments" if provider else "customers' environments"
        names = ", ".join(sorted(allowed))
        raise Conflict(
            f"{release} is {release.status}; {where} take {names} releases only.",
            field="release",
        )


def schedule_deployment(
    actor: User,
    *,
    release: Release,
    environment: ConfigItem,
    scheduled_for: datetime | None = None,
    note: str = "",
) -> Deployment:
    """Plan putting `release` on `environment` (at `scheduled_for`, or whenever started)."""
    require_agent(actor)
    _check_target(actor, release, environment)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"The note is longer than {NOTE_MAX} characters.", field="note")
    with transaction.atomic():
        pending = Deployment.objects.filter(
            release=release,
            environment=environment,
            status__in=(DeploymentStatus.SCHEDULED, DeploymentStatus.IN_PROGRESS),
        ).first()
        if pending is not None:
            raise Conflict(
                f"{release} is already {pending.get_status_display()} on {environment.name} "
                f"(deployment {pending.pk}).",
                field="release",
            )
        now = timezone.now()
        deployment = Deployment.objects.create(
            release=release,
            environment=environment,
            organization_id=environment.organization_id,
            previous_version=environment.version,
            scheduled_for=scheduled_for,
            note=note,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        events.record(
            deployment,
            "scheduled",
            actor=actor,
            after=snapshot(deployment),
            organization_id=environment.organization_id,
        )
        events.record(
            environment,
            "deployment_scheduled",
            actor=actor,
            after={"release": release.name, "deployment": deployment.pk},
        )
    return deployment


def offered_moves(deployment: Deployment, history: list[Deployment]) -> list[str]:
    """The moves a page offers for one deployment of an environment's history (newest ones):
    only the deployment that stands (the latest succeeded) may roll back, as
    roll_back_deployment refuses the superseded ones."""
    if deployment.status == DeploymentStatus.SUCCEEDED:
        succeeded = [d for d in history if d.status == DeploymentStatus.SUCCEEDED]
        standing = max(succeeded, key=lambda d: (d.finished_at, d.pk), default=None)
        if deployment is not standing:
            return []
    return sorted(TRANSITIONS[deployment.status])


def _move(
    actor: User, deployment: Deployment, status: str, *, reason: str = "", require_reason: bool
) -> Deployment:
    """Check the move from the current status; the caller writes inside the transaction."""
    require_agent(actor)
    check_can_read(actor, deployment)
    allowed = TRANSITIONS[deployment.status]
    if status not in allowed:
        legal = ", ".join(sorted(allowed)) or "none"
        raise Conflict(
            f"Deployment {deployment.pk} cannot go from {deployment.status} to {status} "
            f"(allowed: {legal}).",
            field="status",
        )
    if require_reason and not (reason or "").strip():
        raise Invalid("Give a reason.", field="reason")
    return deployment


# Read with the row when an action locks it: `locked(Deployment(pk=…), *LOCK_WITH)` gives a
# fresh copy, so the caller's own (what it was asked to move) stays as it was.
LOCK_WITH = ("release__version", "release__product", "environment__version")


def _record(deployment: Deployment, actor: User, before: dict, verb: str, reason: str) -> None:
    deployment.updated_at = timezone.now()
    deployment.save()
    after = snapshot(deployment)
    if reason:
        after["reason"] = reason
    old, new = events.changes(before, after)
    events.record(
        deployment,
        verb,
        actor=actor,
        before=old,
        after=new,
        organization_id=deployment.organization_id,
    )


def _check_fresh(deployment: Deployment, expected: str) -> None:
    if deployment.status != expected:
        raise Conflict(
            f"Deployment {deployment.pk} is {deployment.status} now, no longer {expected}.",
            field="status",
        )


def start_deployment(actor: User, deployment: Deployment) -> Deployment:
    """scheduled → in progress; at most one deployment in progress per environment."""
    _move(actor, deployment, DeploymentStatus.IN_PROGRESS, require_reason=False)
    _check_target(actor, deployment.release, deployment.environment)
    busy = (
        Deployment.objects.filter(
            environment_id=deployment.environment_id, status=DeploymentStatus.IN_PROGRESS
        )
        .exclude(pk=deployment.pk)
        .first()
    )
    if busy is not None:
        raise Conflict(
            f"{deployment.environment.name} already has deployment {busy.pk} in progress "
            f"({busy.release}); it cannot go from scheduled to in_progress now.",
            field="status",
        )
    try:
        with transaction.atomic():
            fresh = locked(Deployment(pk=deployment.pk), *LOCK_WITH)
            _check_fresh(fresh, DeploymentStatus.SCHEDULED)
            before = snapshot(fresh)
            fresh.status = DeploymentStatus.IN_PROGRESS
            fresh.started_at = timezone.now()
            # What runs now is what a rollback returns to (it may differ from the schedule time).
            fresh.previous_version = fresh.environment.version
            _record(fresh, actor, before, "started", "")
    except IntegrityError:
        # Another deployment started on the same environment between the check and the write.
        raise Conflict(
            f"{deployment.environment.name} already has a deployment in progress; "
            f"deployment {deployment.pk} cannot go from scheduled to in_progress now.",
            field="status",
        ) from None
    return fresh


def _set_version(actor: User, environment: ConfigItem, version: Version | None, why: dict) -> None:
    before = {"version": _version_name(environment.version)}
    ConfigItem.objects.filter(pk=environment.pk).update(version=version)
    environment.version = version
    events.record(
        environment,
        "version_changed",
        actor=actor,
        before=before,
        after={"version": _version_name(version), **why},
    )


def succeed_deployment(actor: User, deployment: Deployment) -> Deployment:
    """in progress → succeeded: the environment now runs the release's version; the people
    whose fixes arrived are told (one message each) and their incidents noted (and resolved)."""
    _move(actor, deployment, DeploymentStatus.SUCCEEDED, require_reason=False)
    with transaction.atomic():
        fresh = locked(Deployment(pk=deployment.pk), *LOCK_WITH)
        _check_fresh(fresh, DeploymentStatus.IN_PROGRESS)
        before = snapshot(fresh)
        fresh.status = DeploymentStatus.SUCCEEDED
        fresh.finished_at = timezone.now()
        _record(fresh, actor, before, "succeeded", "")
        environment = fresh.environment
        _set_version(
            actor,
            environment,
            fresh.release.version,
            {"deployment": fresh.pk, "release": fresh.release.name},
        )
        notices.fix_deployed(fresh, fresh.previous_version)
    return fresh


def fail_deployment(actor: User, deployment: Deployment, reason: str) -> Deployment:
    """scheduled or in progress → failed (called off, or broke); the version does not change."""
    _move(actor, deployment, DeploymentStatus.FAILED, reason=reason, require_reason=True)
    with transaction.atomic():
        fresh = locked(Deployment(pk=deployment.pk), *LOCK_WITH)
        _check_fresh(fresh, deployment.status)
        before = snapshot(fresh)
        fresh.status = DeploymentStatus.FAILED
        fresh.finished_at = timezone.now()
        _record(fresh, actor, before, "failed", reason.strip())
    return fresh


def roll_back_deployment(actor: User, deployment: Deployment, reason: str) -> Deployment:
    """succeeded → rolled back: the environment returns to the version it ran before."""
    _move(actor, deployment, DeploymentStatus.ROLLED_BACK, reason=reason, require_reason=True)
    with transaction.atomic():
        fresh = locked(Deployment(pk=deployment.pk), *LOCK_WITH)
        _check_fresh(fresh, DeploymentStatus.SUCCEEDED)
        environment = fresh.environment
        if environment.version_id != fresh.release.version_id:
            raise Conflict(
                f"{environment.name} runs {_version_name(environment.version) or 'nothing'} "
                f"now, not {fresh.release.name}; deployment {fresh.pk} cannot go from "
                "succeeded to rolled_back.",
                field="status",
            )
        # A later deployment that still stands superseded this one: rolling this one back
        # would put back a version older than what that one replaced (the version check above
        # passes when the later one deployed the same version again).
        later = (
            Deployment.objects.filter(
                environment_id=environment.pk, status=DeploymentStatus.SUCCEEDED
            )
            .filter(
                Q(finished_at__gt=fresh.finished_at)
                | Q(finished_at=fresh.finished_at, pk__gt=fresh.pk)
            )
            .exclude(pk=fresh.pk)
            .order_by("-finished_at", "-pk")
            .first()
        )
        if later is not None:
            raise Conflict(
                f"Deployment {later.pk} ({later.release.name}) came after it on "
                f"{environment.name}: roll that one back first; deployment {fresh.pk} cannot "
                "go from succeeded to rolled_back.",
                field="status",
            )
        before = snapshot(fresh)
        fresh.status = DeploymentStatus.ROLLED_BACK
        _record(fresh, actor, before, "rolled_back", reason.strip())
        _set_version(
            actor,
            environment,
            fresh.previous_version,
            {"deployment": fresh.pk, "rolled_back": fresh.release.name},
        )
    return fresh


def transition(actor: User, deployment: Deployment, status: str, *, reason: str = "") -> Deployment:
    """One door for the API and the pages: move a deployment to `status`."""
    if status not in DeploymentStatus.values or status == DeploymentStatus.SCHEDULED:
        names = ", ".join(s for s in DeploymentStatus.values if s != DeploymentStatus.SCHEDULED)
        raise Invalid(f"status must be one of {names}.", field="status")
    if status == DeploymentStatus.IN_PROGRESS:
        return start_deployment(actor, deployment)
    if status == DeploymentStatus.SUCCEEDED:
        return succeed_deployment(actor, deployment)
    if status == DeploymentStatus.FAILED:
        return fail_deployment(actor, deployment, reason)
    return roll_back_deployment(actor, deployment, reason)
