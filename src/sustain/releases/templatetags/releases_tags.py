"""Words for the release page's timeline."""

from __future__ import annotations

from typing import Any

from django import template

from sustain.core.wording import Field, describe, from_choices, quoted
from sustain.releases.models import Kind, ReleaseChange, Status, TestRun

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
FIELDS = {
    "status": Field("status", from_choices(Status.choices)),
    "version": Field("version"),
    "kind": Field("kind", from_choices(Kind.choices)),
    "bug": Field("bug"),
    "title": Field("title", quoted),
    "result": Field("result", from_choices(TestRun.Result.choices)),
    "planned_for": Field("planned for"),
    "repository": Field("repository"),
    "from_tag": Field("from tag"),
    "to_tag": Field("to tag"),
    "fields": Field("section", many=True),
}
TEXT_FIELDS = ("summary", "known_issues")
CHANGE_KINDS = from_choices(ReleaseChange.Kind.choices)
GONE = ("bug", "title")


@register.filter
def release_event_text(event: Any) -> str:
    """'changed the status from Testing to Approved' from a release event's before/after."""
    words = VERBS.get(event.verb, event.verb.replace("_", " "))
    if event.verb == "gate_overridden":
        return f"{words}: “{event.after.get('reason', '')}”"
    after = event.after
    if event.verb == "contents_refreshed":  # told as the bugs added and the bugs removed
        bugs = {"added": Field("bug", many=True)}
        return describe(words, {"added": after.get("removed", [])}, after, bugs)
    if event.verb == "change_added":  # "added the improvement “CSV export is twice as fast”"
        kind = CHANGE_KINDS(after.get("kind", "")).lower()
        return f"added the {kind} {quoted(after.get('title', ''))}"
    if event.verb == "test_run_reported":
        result = FIELDS["result"].show(after.get("result", ""))
        counts = f"{after.get('passed', 0)} passed, {after.get('failed', 0)} failed"
        return f"reported the test run {after.get('name', '')}: {result.lower()}, {counts}"
    return describe(words, event.before, after, FIELDS, texts=TEXT_FIELDS, gone=GONE)
