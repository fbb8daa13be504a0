"""Timeline wording: an event's before/after told in words, with labels instead of stored values.

Each app says which fields its events show and how a stored value reads (a status label, a
priority's name, a version); this module turns that into "changed the status from Open to
Resolved" or "added the tag nginx". Kept in core so the desk, the bugs and the releases
speak alike; the apps' template filters pass their own field tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

EMPTY: tuple[Any, ...] = (None, "", [], {})


def plain(value: Any) -> str:
    return str(value)


def quoted(value: Any) -> str:
    return f"“{value}”"


def from_choices(choices: Iterable[tuple[Any, Any]]) -> Callable[[Any], str]:
    """A stored choice value read as its label (`in_progress` → "In progress")."""
    labels = {str(value): str(label) for value, label in choices}

    def show(value: Any) -> str:
        return labels.get(str(value), str(value).replace("_", " "))

    return show


@dataclass(frozen=True)
class Field:
    """How one field of an event reads: its label, and how a value of it reads."""

    label: str
    show: Callable[[Any], str] = plain
    # A list-valued field (tags, affected versions): told as what was added and removed.
    many: bool = False


def _items(value: Any) -> list[str]:
    if value in EMPTY:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _many(field: Field, old: Any, new: Any) -> str:
    before, after = _items(old), _items(new)
    added = [v for v in after if v not in before]
    removed = [v for v in before if v not in after]
    parts = []
    for verb, values in (("added", added), ("removed", removed)):
        if values:
            label = field.label if len(values) == 1 else f"{field.label}s"
            parts.append(f"{verb} the {label} {', '.join(field.show(v) for v in values)}")
    return " and ".join(parts) or f"left the {field.label}s as they were"


def change(field: Field, old: Any, new: Any, *, has_old: bool = True, named: bool = True) -> str:
    """One field's change in words; `named=False` leaves the label out (the verb said it)."""
    if field.many:
        return _many(field, old, new)
    label = f"{field.label} " if named else ""
    if not has_old or old in EMPTY:
        return f"{label}{field.show(new)}" if new not in EMPTY else f"{label}none"
    if new in EMPTY:
        return f"{label}cleared (was {field.show(old)})"
    return f"{label}from {field.show(old)} to {field.show(new)}"


def _topic(words: str, field: Field) -> bool:
    return words.endswith((f" {field.label}", f" {field.label}s"))


def describe(
    words: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    fields: Mapping[str, Field],
    *,
    texts: Iterable[str] = (),
    gone: Iterable[str] = (),
) -> str:
    """`words`, then each shown field's change: "changed the priority from P3 medium to P1
    critical". `texts` are long fields (only "description changed"); `gone` are fields only
    the before side names (a removed bug, a removed change)."""
    shown = [(n, f) for n, f in fields.items() if n in after]
    if len(shown) == 1 and not any(n in after for n in texts) and _topic(words, shown[0][1]):
        # The verb names the one field: "changed the status from Open to Resolved".
        name, field = shown[0]
        told = change(field, before.get(name), after[name], has_old=name in before, named=False)
        return told if field.many else f"{words} {told}"
    details = []
    for name, field in fields.items():
        if name in after:
            details.append(change(field, before.get(name), after[name], has_old=name in before))
        elif name in before and name in gone:
            details.append(f"{field.label} {field.show(before[name])}")
    details += [f"{name.replace('_', ' ')} changed" for name in texts if name in after]
    return f"{words}: {', '.join(details)}" if details else words
