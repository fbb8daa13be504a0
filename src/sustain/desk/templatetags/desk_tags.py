"""The desk timeline in words: labels, not stored values (loaded as a builtin)."""

from __future__ import annotations

from typing import Any

from django import template

from sustain.core.models import Priority
from sustain.core.wording import Field, describe, from_choices, quoted
from sustain.desk.models import Level, Status, TicketLink

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
    "cc_added": "added people to copy",
    "commented": "replied",
    "bug_created": "reported a bug from it",
    "ticket_linked": "linked a bug",
    "ticket_unlinked": "unlinked a bug",
}
FIELDS = {
    "status": Field("status", from_choices(Status.choices)),
    "priority": Field("priority", from_choices(Priority.choices)),
    "impact": Field("impact", from_choices(Level.choices)),
    "urgency": Field("urgency", from_choices(Level.choices)),
    "team": Field("team"),
    "assignee": Field("assignee"),
    "title": Field("title", quoted),
    "affected_ci": Field("affected item"),
    "parent": Field("major incident"),
    "tags": Field("tag", many=True),
    "target": Field("ticket"),
    "source": Field("duplicate"),
    "filename": Field("file"),
    "cc": Field("copy", many=True),
    "bug": Field("bug"),
}
# Long texts: the event keeps both versions; the timeline only says which one changed.
TEXT_FIELDS = ("description",)


@register.filter
def event_text(event: Any) -> str:
    """'changed the status from Open to Resolved' from a ticket event's before/after."""
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    if event.verb == "created":
        return words
    if event.verb == "linked":  # "linked INC-1002 as related" (or as a duplicate)
        kind = event.after.get("kind", "")
        as_what = "a duplicate" if kind == TicketLink.Kind.DUPLICATE else "related"
        return f"linked {event.after.get('target', 'a ticket')} as {as_what}"
    return describe(words, event.before, event.after, FIELDS, texts=TEXT_FIELDS)
