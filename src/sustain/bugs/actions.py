"""Every change to a bug goes through these functions, whichever door it came through (web,
API, the VCS webhook and scanner, releases).

Each checks permission, validates the whole input, writes inside one transaction, records the
event on the bug's timeline and queues the notifications. Linking tickets and duplicates
(bugs/tickets.py), the backport table (bugs/lines.py), comments and attachments
(bugs/comments.py) and fixes from commits (bugs/commits.py) live beside, in topic modules that
never import this one; their actions are re-exported here (listed in `__all__` with this
module's own), so every door imports `sustain.bugs.actions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts import refs
from sustain.accounts.actions import require_agent
from sustain.accounts.models import Team, User
from sustain.bugs import notifications, regressions, triage, workflow
from sustain.bugs import refs as bug_refs
from sustain.bugs.comments import add_attachment, add_comment, store_attachment, write_comment
from sustain.bugs.commits import link_commit, mark_fixed_by_commit
from sustain.bugs.lines import add_affected_lines, set_line_status
from sustain.bugs.models import (
    KEY_PREFIX,
    OPEN_STATUSES,
    Bug,
    BugTicket,
    Severity,
    Status,
)
from sustain.bugs.similar import index as similar_index
from sustain.bugs.tickets import check_ticket, link_ticket, mark_duplicate, recount, unlink_ticket
from sustain.cmdb.models import Component, ConfigItem, Product, Version
from sustain.core import attachments as files
from sustain.core import counters, events, tenancy
from sustain.core.errors import Conflict, Invalid, Problems, refuse_unknown
from sustain.core.locking import locked, save_changed
from sustain.core.models import Priority, as_priority
from sustain.desk.models import Ticket

TITLE_MAX = 300
TEXT_FIELDS = ("description", "steps_to_reproduce", "expected_behaviour", "actual_behaviour")
TEXT_MAX = 100_000
# What snapshot() reads: fetched with the row when an action locks it (`locked(bug, *RELATED)`,
# the first statement of every action's transaction, before the checks that read its state).
RELATED = ("product", "component", "team", "assignee", "target_release__version", "environment")


def snapshot(bug: Bug) -> dict[str, Any]:
    """The fields an event shows, as readable values. The environment is left out: it belongs
    to one customer, and gets its own event tied to that organization."""
    return {
        "title": bug.title,
        "status": bug.status,
        "severity": bug.severity,
        "priority": bug.priority,
        "product": bug.product.name,
        "component": bug.component.name if bug.component else None,
        "team": bug.team.name if bug.team else None,
        "assignee": bug.assignee.name if bug.assignee else None,
        "target_release": str(bug.target_release.version.name) if bug.target_release else None,
        "affected_versions": sorted(v.name for v in bug.affected_versions.all()) if bug.pk else [],
        **{field: getattr(bug, field) for field in TEXT_FIELDS},
    }


# --- validation ------------------------------------------------------------------------------
def _title(value: Any) -> str:
    title = (value or "").strip() if isinstance(value, str) else ""
    if not title:
        raise Invalid("A title is required.", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"The title is longer than {TITLE_MAX} characters.", field="title")
    return title


def _text(value: Any, field: str) -> str:
    text = value if isinstance(value, str) else ""
    if len(text) > TEXT_MAX:
        raise Invalid(f"{field} is longer than {TEXT_MAX} characters.", field=field)
    return text


def _severity(value: Any) -> str:
    if value not in Severity.values:
        raise Invalid(f"severity must be one of {', '.join(Severity.values)}.", field="severity")
    return str(value)


def _check_component(product: Product, component: Component | None) -> None:
    if component is not None and component.product_id != product.pk:
        raise Invalid(f"{component.name} is not a component of {product.name}.", field="component")


def _check_versions(product: Product, versions: Iterable[Version], field: str) -> list[Version]:
    checked = list(versions)
    for version in checked:
        if version.product_id != product.pk:
            raise Invalid(f"{version.name} is not a version of {product.name}.", field=field)
    return checked


def _check_environment(actor: User, environment: ConfigItem | None, product: Product) -> None:
    """Any organization's item, as long as the actor serves that organization; one that runs
    a product runs the bug's (install-base answers read its version as the bug's product's)."""
    if environment is not None and not tenancy.can_see_organization(
        actor, environment.organization_id
    ):
        raise Invalid("No such configuration item.", field="environment")
    if environment is not None and environment.product_id not in (None, product.pk):
        raise Invalid(
            f"{environment.name} runs another product than {product.name}.", field="environment"
        )


def _check_assignment(team: Team | None, assignee: User | None) -> None:
    if assignee is not None:
        if not assignee.is_agent or not assignee.is_active:
            raise Invalid(f"{assignee.email} is not an active agent.", field="assignee")
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise Invalid(f"{assignee.name} is not a member of {team.name}.", field="assignee")


def _check_release(product: Product, release: Any) -> None:
    if release is not None and release.product_id != product.pk:
        raise Invalid("The target release is of another product.", field="target_release")


def _record_environment(actor: User, bug: Bug, old: ConfigItem | None) -> None:
    """The environment's own event, tied to its organization (staff serving others skip it)."""
    new = bug.environment
    if (old.pk if old else None) == (new.pk if new else None):
        return
    owner = new or old
    events.record(
        bug,
        "environment_changed",
        actor=actor,
        before={"environment": old.name if old else None},
        after={"environment": new.name if new else None},
        is_public=False,
        organization_id=owner.organization_id if owner else None,
    )


# --- creating and changing -------------------------------------------------------------------
def create_bug(
    actor: User,
    *,
    title: str,
    product: Product,
    description: str = "",
    steps_to_reproduce: str = "",
    expected_behaviour: str = "",
    actual_behaviour: str = "",
    component: Component | None = None,
    affected_versions: Iterable[Version] = (),
    environment: ConfigItem | None = None,
    severity: str = Severity.MAJOR,
    priority: Any = Priority.P3,
    team: Team | None = None,
    assignee: User | None = None,
    target_release: Any = None,
    uploads: Iterable[tuple[str, bytes]] = (),
) -> Bug:
    """Report a bug (staff). Affected versions open AFFECTED rows of the backport table for
    their lines; the triage clock starts from the severity's target."""
    require_agent(actor)
    # Every field checked before answering: a form shows all its errors after one submit.
    problems = Problems()
    title = problems.check(_title, title) or ""
    texts = {
        "description": problems.check(_text, description, "description") or "",
        "steps_to_reproduce": problems.check(_text, steps_to_reproduce, "steps_to_reproduce") or "",
        "expected_behaviour": problems.check(_text, expected_behaviour, "expected_behaviour") or "",
        "actual_behaviour": problems.check(_text, actual_behaviour, "actual_behaviour") or "",
    }
    severity = problems.check(_severity, severity) or severity
    priority = problems.check(as_priority, priority) or priority
    versions = _check_of_product(problems, actor, product, component, affected_versions)
    if product is not None:
        problems.check(_check_environment, actor, environment, product)
        problems.check(_check_release, product, target_release)
    problems.check(_check_assignment, team, assignee)
    checked = [problems.check(files.check, name, content) for name, content in uploads]
    problems.raise_any()  # past it, every check passed: no None left in `checked`
    with transaction.atomic():
        number = counters.next_value("bug")
        now = timezone.now()
        bug = Bug.objects.create(
            key=f"{KEY_PREFIX}-{number}",
            title=title,
            product=product,
            component=component,
            environment=environment,
            severity=severity,
            priority=priority,
            reporter=actor,
            team=team,
            assignee=assignee,
            target_release=target_release,
            triage_due_at=triage.due_at(severity, now),
            created_at=now,
            updated_at=now,
            **texts,
        )
        if versions:
            bug.affected_versions.set(versions)
            add_affected_lines(bug, versions)
        similar_index.refresh(bug, was_open=False)
        events.record(bug, "created", actor=actor, after=snapshot(bug), is_public=False)
        _record_environment(actor, bug, None)
        for upload in checked:
            if upload is not None:
                store_attachment(actor, bug, upload, comment=None)
        if assignee is not None:
            notifications.assigned(bug, actor, events.for_target(bug).last())
    return bug


def _check_of_product(
    problems: Problems,
    actor: User,
    product: Product | None,
    component: Component | None,
    versions: Iterable[Version],
) -> list[Version]:
    """What must belong to the product (component, affected versions), into `problems`."""
    if product is None:
        problems.add("A product is required.", "product")
        return []
    problems.check(_check_component, product, component)
    return problems.check(_check_versions, product, versions, "affected_versions") or []


def create_bug_from_ticket(
    actor: User, ticket: Ticket, *, product: Product | None = None, **fields: Any
) -> Bug:
    """A bug from an incident: title and description carried over (unless given), the
    ticket's affected item as the environment, and its version as an affected version when
    the item runs a version of the bug's product; linked both ways."""
    check_ticket(actor, ticket)
    ci = ticket.affected_ci
    if product is None and ci is not None and ci.product_id:
        product = ci.product
    if product is None:
        raise Invalid(
            "Which product? The ticket's item names none: choose the product.", field="product"
        )
    fields.setdefault("title", ticket.title)
    fields.setdefault("description", ticket.description)
    if ci is not None:
        fields.setdefault("environment", ci)
    if (
        "affected_versions" not in fields
        and ci is not None
        and ci.version is not None
        and ci.version.product_id == product.pk
    ):
        fields["affected_versions"] = [ci.version]
    with transaction.atomic():
        bug = create_bug(actor, product=product, **fields)
        BugTicket.objects.create(bug=bug, ticket=ticket, created_by=actor)
        recount(bug)
        events.record(
            bug,
            "created_from_ticket",
            actor=actor,
            after={"ticket": ticket.key},
            is_public=False,
            organization_id=ticket.organization_id,
        )
        events.record(
            ticket,
            "bug_created",
            actor=actor,
            after={"bug": bug.key, "title": bug.title},
            is_public=False,
        )
    return bug


UPDATABLE = {
    "title",
    *TEXT_FIELDS,
    "product",
    "component",
    "affected_versions",
    "environment",
    "severity",
    "priority",
    "target_release",
}


def patch_bug(actor: User, bug: Bug, changes: dict[str, Any]) -> None:
    """A partial update of several fields (the API's PATCH), applied together or not at all.
    References (team, assignee, product, component, versions …) come as keys or names."""
    with transaction.atomic():
        # Read again under the lock: a field left out keeps its value of now, not of the read
        # above (two PATCHes of team and of assignee at once keep both).
        locked(bug, *RELATED)
        if "team" in changes or "assignee" in changes:
            assign(
                actor,
                bug,
                team=refs.team(actor, changes.pop("team", bug.team_id)),
                assignee=refs.user(actor, changes.pop("assignee", bug.assignee_id), "assignee"),
            )
        if "product" in changes:
            changes["product"] = bug_refs.required_product(actor, changes["product"])
        product = changes.get("product", bug.product)
        if changes:
            update_bug(actor, bug, **bug_refs.fields(actor, changes, product))


def update_bug(actor: User, bug: Bug, **changes: Any) -> Bug:
    """Change the bug's fields (not its status, assignment or links: their own actions).
    Several changes are checked together and applied together."""
    require_agent(actor)
    refuse_unknown(changes, UPDATABLE, "Cannot change {names} here.")
    if "title" in changes:
        changes["title"] = _title(changes["title"])
    for field in TEXT_FIELDS:
        if field in changes:
            changes[field] = _text(changes[field], field)
    if "severity" in changes:
        changes["severity"] = _severity(changes["severity"])
    if "priority" in changes:
        changes["priority"] = as_priority(changes["priority"])
    with transaction.atomic():
        # Checked against the row of now: a product moved meanwhile changes what is valid.
        locked(bug, *RELATED)
        _update(actor, bug, changes)
    return bug


def _update(actor: User, bug: Bug, changes: dict[str, Any]) -> None:
    product = changes.get("product", bug.product)
    if product is None:
        raise Invalid("A product is required.", field="product")
    component = changes.get("component", bug.component)
    moved = "product" in changes and "component" not in changes
    if moved and component is not None and component.product_id != product.pk:
        changes["component"] = component = None  # the old product's component
    _check_component(product, component)
    versions = None
    if "affected_versions" in changes:
        versions = _check_versions(product, changes.pop("affected_versions"), "affected_versions")
    elif "product" in changes and product.pk != bug.product_id and bug.affected_versions.exists():
        raise Invalid(
            "The affected versions are of the old product: give the new product's.",
            field="affected_versions",
        )
    if "environment" in changes:
        _check_environment(actor, changes["environment"], product)
    _check_release(product, changes.get("target_release", bug.target_release))
    before = snapshot(bug)
    old_environment = bug.environment
    for key, value in changes.items():
        setattr(bug, key, value)
    if "severity" in changes and bug.status == Status.NEW:
        # The clock of an untriaged bug follows its severity, from when it was reported.
        bug.triage_due_at = triage.due_at(bug.severity, bug.created_at)
        bug.triage_breached_at = None
    bug.updated_at = timezone.now()
    save_changed(bug, "updated_at")
    if "title" in changes or "description" in changes:
        similar_index.refresh(bug)
    if versions is not None:
        bug.affected_versions.set(versions)
        add_affected_lines(bug, versions)
    old, new = events.changes(before, snapshot(bug))
    if new:
        events.record(bug, "updated", actor=actor, before=old, after=new, is_public=False)
    _record_environment(actor, bug, old_environment)


def assign(actor: User, bug: Bug, *, team: Team | None = None, assignee: User | None = None) -> Bug:
    """Set the team and the agent working on the bug (None clears)."""
    require_agent(actor)
    _check_assignment(team, assignee)
    with transaction.atomic():
        locked(bug, *RELATED)
        before = snapshot(bug)
        bug.team, bug.assignee = team, assignee
        bug.updated_at = timezone.now()
        save_changed(bug, "updated_at")
        old, new = events.changes(before, snapshot(bug))
        if new:
            event = events.record(
                bug, "assigned", actor=actor, before=old, after=new, is_public=False
            )
            if "assignee" in new:
                notifications.assigned(bug, actor, event)
    return bug


def transition(
    actor: User,
    bug: Bug,
    status: str,
    *,
    reason: str = "",
    version: Version | None = None,
) -> Bug:
    """Move the bug along the workflow; an illegal move is a 409 naming from, to and the legal
    moves. Moving a fixed/closed/won't-fix/… bug back to triaged or in progress is a reopen;
    reopening a verified or closed bug is a regression (in `version`, when given)."""
    require_agent(actor)
    if status not in Status.values:
        raise Invalid(f"Unknown status '{status}'.", field="status")
    reason = (reason or "").strip()
    with transaction.atomic():
        # The move is checked against the status of now: of two moves at once from the same
        # status, the second sees the first's and is refused if it is no longer legal.
        locked(bug, *RELATED)
        allowed = workflow.allowed_transitions(bug.status)
        if status not in allowed:
            legal = ", ".join(sorted(allowed)) or "none"
            raise Conflict(
                f"{bug.key} cannot go from {bug.status} to {status} (allowed: {legal}).",
                field="status",
            )
        if status == Status.DUPLICATE:
            raise Invalid(
                "Mark a duplicate with the original it duplicates (POST …/duplicate).",
                field="status",
            )
        if version is not None and version.product_id != bug.product_id:
            raise Invalid(
                f"{version.name} is not a version of {bug.product.name}.", field="version"
            )
        old = bug.status
        reopened = old in workflow.DONE_STATUSES and status in OPEN_STATUSES
        regression = reopened and old in workflow.CONFIRMED_FIXED
        now = timezone.now()
        workflow.enter(bug, status, now)
        if old == Status.DUPLICATE:
            bug.duplicate_of = None
        bug.updated_at = now
        save_changed(bug, "updated_at")
        after: dict[str, Any] = {"status": status}
        if reason:
            after["reason"] = reason
        event = events.record(
            bug,
            "reopened" if reopened else "status_changed",
            actor=actor,
            before={"status": old},
            after=after,
        )
        if reason:
            write_comment(actor, bug, reason, is_public=False)
        notifications.status_changed(bug, actor, event, old, status)
        if regression:
            version = version or regressions.latest_released(bug.product_id)
            regressions.flag(actor, bug, version=version, cause="reopened", reopen=False)
    return bug


def reopen(
    actor: User,
    bug: Bug,
    *,
    status: str = Status.TRIAGED,
    version: Version | None = None,
    reason: str = "",
) -> Bug:
    """Back to triaged (or in progress); `version` is where it came back, for a regression."""
    if status not in OPEN_STATUSES or status == Status.NEW:
        raise Invalid("A bug is reopened to triaged or in_progress.", field="status")
    with transaction.atomic():
        locked(bug, *RELATED)  # two reopens at once: the second finds it open
        if bug.status not in workflow.DONE_STATUSES:
            raise Conflict(f"{bug.key} is {bug.status}: it is not closed.", field="status")
        return transition(actor, bug, status, reason=reason, version=version)


__all__ = [
    "add_attachment",
    "add_comment",
    "assign",
    "create_bug",
    "create_bug_from_ticket",
    "link_commit",
    "link_ticket",
    "mark_duplicate",
    "mark_fixed_by_commit",
    "patch_bug",
    "reopen",
    "set_line_status",
    "transition",
    "unlink_ticket",
    "update_bug",
]
