"""core.wording: an event's before/after in words, with each app's labels."""

from __future__ import annotations

from types import SimpleNamespace

from sustain.core.wording import Field, change, describe, from_choices, quoted
from sustain.desk.templatetags.desk_tags import event_text

STATUS = Field("status", from_choices([("in_progress", "In progress"), ("new", "New")]))


def event(verb: str, before: dict, after: dict) -> SimpleNamespace:
    return SimpleNamespace(verb=verb, before=before, after=after)


def test_a_verb_that_names_its_one_field_reads_as_a_sentence():
    told = describe(
        "changed the status", {"status": "new"}, {"status": "in_progress"}, {"status": STATUS}
    )
    assert told == "changed the status from New to In progress"


def test_several_fields_are_listed_with_their_labels():
    fields = {"status": STATUS, "title": Field("title", quoted)}
    told = describe(
        "edited it",
        {"status": "new", "title": "a"},
        {"status": "in_progress", "title": "b"},
        fields,
    )
    assert told == "edited it: status from New to In progress, title from “a” to “b”"


def test_lists_are_told_as_added_and_removed():
    tags = Field("tag", many=True)
    assert change(tags, [], ["nginx"]) == "added the tag nginx"
    assert change(tags, ["a", "b"], ["b", "c", "d"]) == "added the tags c, d and removed the tag a"


def test_empty_values_read_as_set_and_cleared():
    team = Field("team")
    assert change(team, None, "Ops") == "team Ops"
    assert change(team, "Ops", None) == "team cleared (was Ops)"


def test_the_desk_timeline_never_shows_stored_values():
    assert event_text(event("priority_changed", {"priority": 3}, {"priority": 1})) == (
        "changed the priority from P3 medium to P1 critical"
    )
    assert event_text(event("tagged", {"tags": []}, {"tags": ["nginx"]})) == "added the tag nginx"
    assert event_text(event("linked", {}, {"kind": "related", "target": "INC-2"})) == (
        "linked INC-2 as related"
    )
