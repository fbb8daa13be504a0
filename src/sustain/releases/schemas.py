"""API shapes of releases; customers get a smaller one (released notes only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from sustain.core.api import Input, Patch, UtcDateTime
from sustain.releases import notes
from sustain.releases.models import Kind, ReleaseChange, Status, TestRun


class ReleaseOut(Schema):
    id: int
    product: str = Field(alias="product.slug")
    version: str = Field(alias="version.name")
    kind: str
    status: str
    previous: str | None = Field(None, alias="previous.version.name")
    repository: str | None = Field(None, alias="repository.name")
    from_tag: str
    to_tag: str
    summary: str
    known_issues: str
    planned_for: date | None
    approved_at: datetime | None
    approved_by: str | None = Field(None, alias="approved_by.email")
    gate_override_reason: str
    released_at: datetime | None
    withdrawn_reason: str
    notes_edited: bool
    created_at: datetime
    updated_at: datetime
    url: str

    @staticmethod
    def resolve_url(release: Any) -> str:
        return reverse("releases:detail", args=[release.pk])


class ReleaseCustomerOut(Schema):
    """What a customer reads of a released version of a product they run."""

    id: int
    product: str = Field(alias="product.slug")
    version: str = Field(alias="version.name")
    kind: str
    released_at: datetime | None
    summary: str
    known_issues: str
    notes: str = Field(alias="customer_notes")
    notes_html: str

    @staticmethod
    def resolve_notes_html(release: Any) -> str:
        return notes.html(release.customer_notes)


class ReleaseIn(Input):
    product: str = Field(description="Product slug or id.")
    version: str = Field(min_length=5, max_length=60, description="Semantic version, 8.1.3.")
    kind: Kind
    summary: str = Field("", max_length=50_000)
    known_issues: str = Field("", max_length=50_000)
    planned_for: date | None = None
    repository: str | None = Field(None, description="Repository name or id.")
    from_tag: str = Field("", max_length=200)
    to_tag: str = Field("", max_length=200)


class ReleasePatch(Patch):
    clearable = frozenset({"planned_for", "repository"})

    summary: str | None = Field(None, max_length=50_000)
    known_issues: str | None = Field(None, max_length=50_000)
    planned_for: date | None = None
    repository: str | None = None
    from_tag: str | None = Field(None, max_length=200)
    to_tag: str | None = Field(None, max_length=200)


class ReleaseFilters(Schema):
    product: str | None = None
    status: str | None = Field(None, description="One or more statuses, comma-separated.")
    kind: Kind | None = None
    cursor: str | None = None
    limit: int | None = None


class ReleaseTransitionIn(Input):
    status: Status
    reason: str = Field("", max_length=2000, description="Required to withdraw.")


class ApproveIn(Input):
    override_reason: str = Field(
        "", max_length=2000, description="An admin's reason to approve past a failing gate."
    )


class CheckOut(Schema):
    name: str
    label: str
    ok: bool
    message: str
    bugs: list[str]


class GateOut(Schema):
    ok: bool
    checks: list[CheckOut]


class ReleaseBugOut(Schema):
    bug: str = Field(alias="bug.key")
    title: str = Field(alias="bug.title")
    severity: str = Field(alias="bug.severity")
    status: str = Field(alias="bug.status")
    source: str
    created_at: datetime


class ReleaseBugIn(Input):
    bug: str = Field(min_length=1, max_length=20, description="Bug key, BUG-12.")


class ChangeOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    is_public: bool
    created_at: datetime


class ChangeIn(Input):
    kind: ReleaseChange.Kind = ReleaseChange.Kind.IMPROVEMENT
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    is_public: bool = True


class NotesOut(Schema):
    customer_notes: str
    internal_notes: str
    customer_html: str
    internal_html: str
    notes_edited: bool

    @staticmethod
    def resolve_customer_html(release: Any) -> str:
        return notes.html(release.customer_notes)

    @staticmethod
    def resolve_internal_html(release: Any) -> str:
        return notes.html(release.internal_notes)


class NotesIn(Input):
    customer_notes: str | None = Field(None, max_length=100_000)
    internal_notes: str | None = Field(None, max_length=100_000)


class TestRunIn(Input):
    __test__ = False

    name: str = Field("tests", min_length=1, max_length=200)
    result: TestRun.Result
    url: str = Field("", max_length=500)
    passed: int = Field(0, ge=0, le=10**9)
    failed: int = Field(0, ge=0, le=10**9)
    skipped: int = Field(0, ge=0, le=10**9)
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None


class TestRunOut(Schema):
    __test__ = False

    id: int
    name: str
    result: str
    url: str
    passed: int
    failed: int
    skipped: int
    reported_by: str | None = Field(None, alias="reported_by.email")
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime


class RefreshOut(Schema):
    added: list[str]
    removed: list[str]


class ReleaseEventOut(Schema):
    id: int
    verb: str
    actor: str | None = Field(None, alias="actor.email")
    before: dict
    after: dict
    created_at: datetime
