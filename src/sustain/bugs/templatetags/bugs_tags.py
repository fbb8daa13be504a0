"""Template helpers of the bug pages."""

from __future__ import annotations

from typing import Any

from django import template

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
SHOWN = (
    "status",
    "severity",
    "priority",
    "team",
    "assignee",
    "title",
    "ticket",
    "original",
    "duplicate",
    "line",
    "fixed_version",
    "planned_version",
    "sha",
    "branch",
    "regressed_in",
    "environment",
    "filename",
    "reason",
)


def _short(field: str, value: Any) -> Any:
    if field == "sha" and isinstance(value, str):
        return value[:12]
    return value


@register.filter
def bug_event_text(event: Any) -> str:
    """'changed the status: new → triaged' from a bug event's before/after."""
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    if event.verb == "created":
        return words
    details = []
    for field in SHOWN:
        if field in event.after:
            old, new = event.before.get(field), _short(field, event.after.get(field))
            details.append(f"{field} {old} → {new}" if old not in (None, "") else f"{field} {new}")
    # Long texts: the event keeps both versions; the timeline only says which one changed.
    details += [
        f"{field.replace('_', ' ')} changed" for field in TEXT_FIELDS if field in event.after
    ]
    return f"{words}: {', '.join(details)}" if details else words


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
