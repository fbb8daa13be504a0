"""API shapes of bugs: the staff view, the smaller customer view, and what hangs beneath."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from sustain.bugs.models import LineStatus, Severity, Status
from sustain.bugs.workflow import CUSTOMER_WORDS
from sustain.core.api import Id, Input, Patch
from sustain.core.text import render_markdown


class BugLineOut(Schema):
    line: str
    major: int
    minor: int
    status: str
    introduced_in: str | None = Field(None, alias="introduced_in.name")
    planned_version: str | None = Field(None, alias="planned_version.name")
    fixed_version: str | None = Field(None, alias="fixed_version.name")
    fixed_by: str | None = Field(None, alias="fixed_by.sha")
    updated_at: datetime


def _fixed_in(bug: Any) -> list[str]:
    lines = [line for line in bug.lines.all() if line.fixed_version is not None]
    return [line.fixed_version.name for line in lines]


class BugOut(Schema):
    """What staff see."""

    key: str
    title: str
    description: str
    description_html: str
    steps_to_reproduce: str
    expected_behaviour: str
    actual_behaviour: str
    product: str = Field(alias="product.slug")
    component: str | None = Field(None, alias="component.name")
    affected_versions: list[str]
    environment: int | None = Field(
        None, description="Configuration item id; shown to those who serve its organization."
    )
    severity: str
    priority: int
    status: str
    duplicate_of: str | None = Field(None, alias="duplicate_of.key")
    reporter: str | None = Field(None, alias="reporter.email")
    team: str | None = Field(None, alias="team.slug")
    assignee: str | None = Field(None, alias="assignee.email")
    target_release: str | None = Field(None, alias="target_release.version.name")
    is_regression: bool
    regressed_in: str | None = Field(None, alias="regressed_in.name")
    incident_count: int
    organization_count: int
    environment_count: int
    triage_due_at: datetime | None
    triage_breached_at: datetime | None
    created_at: datetime
    updated_at: datetime
    triaged_at: datetime | None
    fixed_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    fixed_in: list[str]
    lines: list[BugLineOut]
    url: str

    @staticmethod
    def resolve_description_html(bug: Any) -> str:
        return render_markdown(bug.description)

    @staticmethod
    def resolve_affected_versions(bug: Any) -> list[str]:
        return [v.name for v in bug.affected_versions.all()]

    @staticmethod
    def resolve_environment(bug: Any) -> int | None:
        return bug.environment_id if getattr(bug, "environment_shown", False) else None

    @staticmethod
    def resolve_fixed_in(bug: Any) -> list[str]:
        return _fixed_in(bug)

    @staticmethod
    def resolve_lines(bug: Any) -> list[Any]:
        return list(bug.lines.all())

    @staticmethod
    def resolve_url(bug: Any) -> str:
        return reverse("bugs:bug", args=[bug.key])


class BugCustomerOut(Schema):
    """What a customer sees of a bug that hit them: no internal fields."""

    key: str
    title: str
    status: str
    status_words: str
    severity: str
    product: str = Field(alias="product.name")
    fixed_in: list[str] = Field(description="Versions that carry the fix.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_status_words(bug: Any) -> str:
        return str(CUSTOMER_WORDS[bug.status])

    @staticmethod
    def resolve_fixed_in(bug: Any) -> list[str]:
        return _fixed_in(bug)


class BugSimilarOut(Schema):
    kind: str
    key: str
    title: str
    status: str
    score: int
    url: str


class BugCreatedOut(BugOut):
    similar: list[BugSimilarOut] = Field(
        [], description="The most similar open bugs and tickets, to spot a duplicate."
    )


class BugIn(Input):
    title: str = Field(min_length=1, max_length=300)
    product: int | str = Field(description="Product slug or id.")
    description: str = Field("", max_length=100_000)
    steps_to_reproduce: str = Field("", max_length=100_000)
    expected_behaviour: str = Field("", max_length=100_000)
    actual_behaviour: str = Field("", max_length=100_000)
    component: str | None = Field(None, max_length=200, description="Component name or id.")
    affected_versions: list[str] = Field([], max_length=100, description="Version names.")
    environment: int | None = Field(None, description="Configuration item id.")
    severity: Severity = Severity.MAJOR
    priority: int = Field(3, ge=1, le=4)
    team: str | None = None
    assignee: str | None = Field(None, description="E-mail or id of an agent.")
    target_release: str | None = Field(None, max_length=60, description="Release version name.")


class BugPatch(Patch):
    clearable = frozenset({"component", "environment", "team", "assignee", "target_release"})

    title: str | None = Field(None, min_length=1, max_length=300)
    product: int | str | None = None
    description: str | None = Field(None, max_length=100_000)
    steps_to_reproduce: str | None = Field(None, max_length=100_000)
    expected_behaviour: str | None = Field(None, max_length=100_000)
    actual_behaviour: str | None = Field(None, max_length=100_000)
    component: str | None = Field(None, max_length=200)
    affected_versions: list[str] | None = Field(None, max_length=100)
    environment: Id | None = None
    severity: Severity | None = None
    priority: int | None = Field(None, ge=1, le=4)
    team: str | None = None
    assignee: str | None = None
    target_release: str | None = Field(None, max_length=60)


class BugFromTicketIn(Input):
    product: int | str | None = Field(
        None, description="Product slug or id; by default the product the ticket's item runs."
    )
    title: str | None = Field(None, min_length=1, max_length=300)
    severity: Severity = Severity.MAJOR
    priority: int = Field(3, ge=1, le=4)
    team: str | None = None
    assignee: str | None = None


class BugListFilters(Schema):
    status: str | None = Field(None, description="One or more statuses, comma-separated.")
    severity: str | None = Field(None, description="One or more severities, comma-separated.")
    priority: str | None = Field(None, description="One or more of 1-4, comma-separated.")
    product: str | None = None
    component: str | None = None
    assignee: str | None = Field(None, description="E-mail, id, 'me' or 'none'.")
    team: str | None = None
    q: str | None = Field(None, max_length=200, description="Full-text search.")
    triage: bool | None = Field(None, description="Only new bugs (the triage queue).")
    regression: bool | None = Field(None, description="Only regressions.")
    order: str | None = Field(None, description="newest, oldest, updated, priority or impact.")
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class BugTransitionIn(Input):
    status: Status
    reason: str = Field("", max_length=10_000)
    version: str | None = Field(
        None, max_length=60, description="Reopening: the version where the bug came back."
    )


class DuplicateIn(Input):
    original: str = Field(min_length=1, max_length=20, description="The original bug's key.")


class BugTicketIn(Input):
    ticket: str = Field(min_length=1, max_length=20, description="The ticket's key.")


class BugTicketOut(Schema):
    ticket: str = Field(alias="ticket.key")
    title: str = Field(alias="ticket.title")
    status: str = Field(alias="ticket.status")
    organization: str = Field(alias="ticket.organization.slug")
    environment: int | None = Field(None, alias="ticket.affected_ci_id")
    created_at: datetime


class BugLineIn(Input):
    major: int = Field(ge=0, le=2**31 - 1)
    minor: int = Field(ge=0, le=2**31 - 1)
    status: LineStatus
    planned_version: str | None = Field(None, max_length=60)
    fixed_version: str | None = Field(None, max_length=60)
    introduced_in: str | None = Field(None, max_length=60)


class BugCommentIn(Input):
    body: str = Field(min_length=1, max_length=100_000)
    is_public: bool = False


class BugCommentOut(Schema):
    id: int
    author: str | None = Field(None, alias="author.email")
    body: str
    body_html: str
    is_public: bool
    created_at: datetime

    @staticmethod
    def resolve_body_html(comment: Any) -> str:
        return render_markdown(comment.body)


class BugAttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(attachment: Any) -> str:
        return reverse("bugs:attachment", args=[attachment.pk])


class BugTimelineItem(Schema):
    kind: str = Field(description="comment or event")
    id: int
    verb: str
    actor: str | None
    body: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    is_public: bool
    created_at: datetime
