"""Template helpers of the bug pages."""

from __future__ import annotations

from typing import Any

from django import template

from sustain.bugs.models import LineStatus, Severity, Status
from sustain.core.models import Priority
from sustain.core.wording import Field, describe, from_choices, quoted

register = template.Library()

VERBS = {
    "created": "reported the bug",
    "created_from_ticket": "created it from a ticket",
    "updated": "edited the bug",
    "assigned": "changed the assignment",
    "status_changed": "changed the status",
    "reopened": "reopened the bug",
    "attached": "attached a file",
    "ticket_linked": "linked a ticket",
    "ticket_unlinked": "unlinked a ticket",
    "marked_duplicate": "marked it a duplicate",
    "duplicate_merged": "merged a duplicate into it",
    "line_changed": "changed a release line",
    "fixed_by_commit": "fixed by a commit",
    "commit_referenced": "referenced by a commit",
    "regression": "flagged a regression",
    "triage_overdue": "triage overdue",
    "environment_changed": "changed the environment",
}
TEXT_FIELDS = ("description", "steps_to_reproduce", "expected_behaviour", "actual_behaviour")
FIELDS = {
    "status": Field("status", from_choices(Status.choices)),
    "severity": Field("severity", from_choices(Severity.choices)),
    "priority": Field("priority", from_choices(Priority.choices)),
    "team": Field("team"),
    "assignee": Field("assignee"),
    "title": Field("title", quoted),
    "product": Field("product"),
    "component": Field("component"),
    "ticket": Field("ticket"),
    "original": Field("original"),
    "duplicate": Field("duplicate"),
    "target_release": Field("target release"),
    "affected_versions": Field("affected version", many=True),
    "introduced_in": Field("introduced in"),
    "planned_version": Field("fix planned for"),
    "fixed_version": Field("fixed in"),
    "fixed_by": Field("fixed by commit"),
    "sha": Field("commit", lambda v: str(v)[:12]),
    "branch": Field("branch"),
    "regressed_in": Field("regressed in"),
    "environment": Field("environment"),
    "filename": Field("file"),
    "reason": Field("reason", quoted),
}
LINE_VERBS = {
    "line_changed": "changed release line {line}",
    "line_fixed_in_release": "fixed it on release line {line} with release {release}",
}
LINE_FIELDS = {**FIELDS, "status": Field("status", from_choices(LineStatus.choices))}


@register.filter
def bug_event_text(event: Any) -> str:
    """'changed the status from New to Triaged' from a bug event's before/after."""
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    if event.verb == "created":
        return words
    if event.verb in LINE_VERBS:  # "changed release line 2.4: status from Affected to Fixed …"
        after = {k: v for k, v in event.after.items() if k not in ("line", "release")}
        words = LINE_VERBS[event.verb].format(
            line=event.after.get("line", ""), release=event.after.get("release", "")
        )
        return describe(words, event.before, after, LINE_FIELDS)
    return describe(words, event.before, event.after, FIELDS, texts=TEXT_FIELDS)


@register.filter
def duration(seconds: Any) -> str:
    """A triage clock's distance: 2 h 05 min, 3 d 4 h."""
    total = int(seconds or 0) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"
