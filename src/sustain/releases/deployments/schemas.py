"""API schemas of deployments and the install base. Customers get the smaller ones: no
internal note, no author, no failure reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from sustain.core.api import Id, Input, UtcDateTime


class EnvironmentRef(Schema):
    id: int
    name: str
    organization: str = Field(alias="organization.slug")
    product: str | None = Field(None, alias="product.name")
    version: str | None = Field(None, alias="version.name")


class DeploymentPublicOut(Schema):
    """What a customer sees of a deployment to one of their environments."""

    id: int
    release: str = Field(alias="release.name")
    product: str = Field(alias="release.product.name")
    environment: EnvironmentRef
    status: str
    previous_version: str | None = Field(None, alias="previous_version.name")
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class DeploymentOut(DeploymentPublicOut):
    """Staff: everything."""

    release_id: int
    organization: str = Field(alias="organization.slug")
    note: str
    created_by: str | None = Field(None, alias="created_by.email")
    created_at: datetime
    updated_at: datetime


class DeploymentIn(Input):
    release: int = Field(description="The release's id.")
    environment: int = Field(description="The environment's (configuration item's) id.")
    scheduled_for: UtcDateTime | None = None
    note: str = Field("", max_length=5000)


class DeploymentTransitionIn(Input):
    status: str = Field(description="in_progress, succeeded, failed or rolled_back")
    reason: str = Field("", max_length=5000, description="Required to fail or roll back.")


class DeploymentFilters(Schema):
    release: Id | None = None
    environment: Id | None = None
    status: str | None = Field(None, description="One or more statuses, comma-separated.")
    organization: str | None = Field(None, description="Organization id or slug (staff).")
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class AffectedEnvironmentOut(Schema):
    id: int
    name: str
    kind: str
    organization: str = Field(alias="organization.slug")
    organization_name: str = Field(alias="organization.name")
    product: str | None = Field(None, alias="product.name")
    version: str = Field(alias="version.name")


class BugRef(Schema):
    key: str
    title: str


class UpdateOut(Schema):
    """A released version newer than the environment's, with what it fixes."""

    release_id: int
    version: str
    kind: str
    released_at: datetime | None
    customer_notes: str
    fix_count: int = Field(description="How many bugs the release fixes (listed on its page).")
    fixes_reported: list[BugRef] = Field(
        description="The fixes for bugs the environment's organization reported."
    )

    @staticmethod
    def from_update(update: Any) -> dict[str, Any]:
        release = update.release
        return {
            "release_id": release.pk,
            "version": release.version.name,
            "kind": release.kind,
            "released_at": release.released_at,
            "customer_notes": release.customer_notes,
            "fix_count": update.fix_count,
            "fixes_reported": [{"key": b.key, "title": b.title} for b in update.reported],
        }


class EnvironmentUpdatesOut(Schema):
    environment: EnvironmentRef
    behind: int
    updates: list[UpdateOut]


class ShippedOut(Schema):
    environment: EnvironmentRef
    release: str
    deployment: int
    deployed_at: datetime | None
