"""Template filters used across the UI (loaded as builtins)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from sustain.core.text import render_markdown

register = template.Library()

VERBS = {
    "created": "opened the ticket",
    "status_changed": "changed the status",
    "reopened": "reopened the ticket",
    "assigned": "changed the assignment",
    "priority_changed": "changed the priority",
    "updated": "edited the ticket",
    "tagged": "changed the tags",
    "attached": "attached a file",
    "linked": "linked a ticket",
    "merged": "closed it as a duplicate",
    "merged_into": "merged it into another ticket",
    "merged_from": "merged a duplicate into it",
    "parent_changed": "changed the major incident",
    "resolved_with_parent": "resolved it with its major incident",
    "watched": "started watching",
    "unwatched": "stopped watching",
}
SHOWN_FIELDS = (
    "status",
    "priority",
    "team",
    "assignee",
    "title",
    "parent",
    "tags",
    "target",
    "filename",
)
# Long texts: the event keeps both versions; the timeline only says which one changed.
TEXT_FIELDS = ("description",)


@register.filter
def markdown(text: str) -> SafeString:
    return mark_safe(render_markdown(text))


@register.filter
def event_text(event: Any) -> str:
    """'changed the status: open → resolved' from an event's before/after."""
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    details = []
    for field in SHOWN_FIELDS:
        if field in event.after:
            old = event.before.get(field)
            new = event.after.get(field)
            details.append(f"{field} {old} → {new}" if old not in (None, "") else f"{field} {new}")
    details += [f"{field} changed" for field in TEXT_FIELDS if field in event.after]
    return f"{words}: {', '.join(details)}" if details and event.verb != "created" else words
