"""Words for the release page's timeline."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

VERBS = {
    "created": "planned the release",
    "status_changed": "changed the status",
    "updated": "edited the release",
    "gate_overridden": "approved past the failing quality gate",
    "contents_refreshed": "refreshed the contents",
    "bug_added": "added a bug",
    "bug_removed": "removed a bug",
    "change_added": "added a change",
    "change_updated": "edited a change",
    "change_removed": "removed a change",
    "notes_edited": "edited the notes",
    "notes_regenerated": "regenerated the notes",
    "test_run_reported": "reported a test run",
}
SHOWN = ("status", "reason", "bug", "title", "name", "result", "added", "removed", "version")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


@register.filter
def release_event_text(event: Any) -> str:
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    details = []
    for field in SHOWN:
        if field in event.after:
            old = event.before.get(field)
            new = _show(event.after[field])
            details.append(f"{field} {old} → {new}" if old not in (None, "") else f"{field} {new}")
        elif field in event.before:
            details.append(f"{field} {_show(event.before[field])}")
    if event.verb == "gate_overridden":
        details = [f"“{event.after.get('reason', '')}”"]
    return f"{words}: {', '.join(details)}" if details else words
