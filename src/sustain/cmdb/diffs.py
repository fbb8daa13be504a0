"""Configuration text compared and shown: secrets masked, the lines drift ignores dropped, and
diffs (unified, and side by side with collapsed context) from rapidfuzz's alignment of the
lines.

Masking works on lines of the shape every format here shares, `key: value` (YAML),
`key = value` (INI, TOML, properties) and `"key": value` (JSON), and on passwords inside URLs
(`postgres://user:secret@host`); what it cannot parse is left as it is, so a secret in free
text is the writer's to keep out.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass

from django.conf import settings
from rapidfuzz.distance import Levenshtein

from sustain.core.errors import Invalid

MASK = "••••••"
CONTEXT = 3  # unchanged lines kept around each change
_ASSIGNMENT = re.compile(
    r"""^(?P<head>\s*(?:-\s+)?["']?(?P<key>[A-Za-z0-9_.\-]+)["']?\s*[:=]\s*)"""
    r"""(?P<value>.*)$"""
)
_AT = re.compile("@")
_URL_PASSWORD = re.compile(r"(?P<head>//[^/:@\s]+:)(?P<secret>[^@\s/]+)(?P<at>@)")


@functools.lru_cache(maxsize=8)
def _secret_keys(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def key_of(line: str) -> str | None:
    """The key a line assigns, or None."""
    found = _ASSIGNMENT.match(line)
    return found["key"] if found else None


def mask_line(line: str, secret: re.Pattern[str] | None = None) -> str:
    secret = secret or _secret_keys(settings.CONFIG_SECRET_KEYS)
    if "@" in line:
        line = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", line)
    found = _ASSIGNMENT.match(line)
    if found is None or not secret.search(found["key"]):
        return line
    value, tail = _split_tail(found["value"])
    if not value or value in ("{", "[", "|", ">", "null", "~", '""', "''"):
        return line  # a block opens, or nothing is set: no secret on this line
    quote = value[0] if value[0] in "\"'" and value[-1:] == value[0] else ""
    return f"{found['head']}{quote}{MASK}{quote}{tail}"


def mask(text: str) -> str:
    """`text` with its secrets masked. The whole text is searched once for a secret's key or
    an `@`; only the lines found are parsed (a 10,000-line file has a handful)."""
    pattern = settings.CONFIG_SECRET_KEYS
    secret = _secret_keys(pattern)
    hits = [m.start() for m in _candidates(pattern, text)] + [m.start() for m in _AT.finditer(text)]
    if not hits:
        return text
    lines = text.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    for index in {bisect.bisect_right(starts, at) - 1 for at in hits}:
        lines[index] = mask_line(lines[index], secret)
    return "\n".join(lines)


def _candidates(pattern: str, text: str):
    """Where a secret's key may be: a pattern without capitals is run case-sensitively over
    the lowered text (ten times faster than re.IGNORECASE over the text; lowering keeps every
    offset for ASCII and nearly all text), else case-insensitively."""
    if pattern == pattern.lower() and len(lowered := text.lower()) == len(text):
        return _plain(pattern).finditer(lowered)
    return _secret_keys(pattern).finditer(text)


@functools.lru_cache(maxsize=8)
def _plain(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _split_tail(value: str) -> tuple[str, str]:
    """A value and what follows it on the line: trailing blanks and a JSON comma."""
    kept = value.rstrip()
    if kept.endswith(","):
        kept = kept[:-1].rstrip()
    return kept, value[len(kept) :]


def shown(text: str, user) -> str:
    """`text` as `user` may read it: admins see secrets, everyone else their mask."""
    return text if getattr(user, "is_admin", False) else mask(text)


# --- drift: what is compared --------------------------------------------------------------------
def check_rules(rules: object) -> list[dict[str, str]]:
    """Ignore rules checked: a list of {"kind": "key" | "line", "pattern": regex}."""
    if not isinstance(rules, list) or len(rules) > 50:
        raise Invalid("Ignore rules are a list of at most 50 rules.", field="ignore_rules")
    out = []
    for i, rule in enumerate(rules):
        where = f"ignore_rules.{i}"
        if not isinstance(rule, dict) or set(rule) != {"kind", "pattern"}:
            raise Invalid(f"{where} must be {{kind, pattern}} and nothing else.", field=where)
        if rule["kind"] not in ("key", "line"):
            raise Invalid(f"{where}.kind must be key or line.", field=f"{where}.kind")
        pattern = rule["pattern"]
        if not isinstance(pattern, str) or not pattern or len(pattern) > 200:
            raise Invalid(f"{where}.pattern must be 1–200 characters.", field=f"{where}.pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise Invalid(f"{where}.pattern: {exc}.", field=f"{where}.pattern") from exc
        out.append({"kind": rule["kind"], "pattern": pattern})
    return out


def comparable(text: str, rules: list[dict[str, str]]) -> list[str]:
    """The lines drift compares: line endings and trailing blanks evened out, and the lines
    an ignore rule names dropped (a key rule: the lines assigning a matching key)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    keys = [re.compile(r["pattern"]) for r in rules if r["kind"] == "key"]
    whole = [re.compile(r["pattern"]) for r in rules if r["kind"] == "line"]
    if not keys and not whole:
        return lines

    def ignored(line: str) -> bool:
        if any(p.search(line) for p in whole):
            return True
        key = key_of(line) if keys else None
        return key is not None and any(p.fullmatch(key) for p in keys)

    return [line for line in lines if not ignored(line)]


# --- diffs --------------------------------------------------------------------------------------
Opcode = tuple[str, int, int, int, int]


def opcodes(old: list[str], new: list[str]) -> list[Opcode]:
    """difflib-style opcodes (equal, replace, delete, insert) from rapidfuzz's Levenshtein
    alignment of the lines, each line interned to a number first: C++ instead of difflib's
    Python matcher, some five times faster on a 10,000-line file with scattered changes."""
    ids: dict[str, int] = {}
    a = [ids.setdefault(line, len(ids)) for line in old]
    b = [ids.setdefault(line, len(ids)) for line in new]
    return [tuple(op) for op in Levenshtein.opcodes(a, b)]  # type: ignore[misc]


def grouped(ops: list[Opcode], context: int = CONTEXT) -> list[list[Opcode]]:
    """The changes with `context` unchanged lines around each, as hunks (what
    `difflib.SequenceMatcher.get_grouped_opcodes` gives)."""
    if not any(tag != "equal" for tag, *_ in ops):
        return []
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if not length else start + 1},{length}"


def unified_of(
    a: list[str], b: list[str], groups: list[list[Opcode]], old_name: str, new_name: str
) -> str:
    if not groups:
        return ""
    out = [f"--- {old_name}", f"+++ {new_name}"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            out += ["-" + line for line in a[i1:i2]]
            out += ["+" + line for line in b[j1:j2]]
    return "\n".join(out)


@dataclass
class Row:
    """One row of a side-by-side diff; `tag` is equal, replace, delete, insert or skip (the
    unchanged lines left out)."""

    tag: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def rows_of(a: list[str], b: list[str], groups: list[list[Opcode]]) -> list[Row]:
    rows: list[Row] = []
    for group in groups:
        if rows or group[0][1] > 0 or group[0][3] > 0:
            rows.append(Row("skip", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    Row("equal", i + 1, a[i], j1 + i - i1 + 1, b[j1 + i - i1])
                    for i in range(i1, i2)
                ]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                left, right = i < i2, j < j2
                rows.append(
                    Row(
                        tag if left and right else ("delete" if left else "insert"),
                        i + 1 if left else None,
                        a[i] if left else "",
                        j + 1 if right else None,
                        b[j] if right else "",
                    )
                )
    if groups:
        last = groups[-1][-1]
        if last[2] < len(a) or last[4] < len(b):
            rows.append(Row("skip", None, "", None, ""))
    return rows


@dataclass
class Compared:
    """Everything a diff page or answer shows, from one alignment of the lines."""

    removed: int
    added: int
    unified: str
    rows: list[Row]


def compare(old: str, new: str, old_name: str, new_name: str) -> Compared:
    a, b = old.split("\n"), new.split("\n")
    ops = opcodes(a, b)
    removed, added = _counts(ops)
    groups = grouped(ops)
    return Compared(
        removed, added, unified_of(a, b, groups, old_name, new_name), rows_of(a, b, groups)
    )


def changed_lines(old: str, new: str) -> tuple[int, int]:
    """(lines removed, lines added) from `old` to `new`."""
    return _counts(opcodes(old.split("\n"), new.split("\n")))


def _counts(ops: list[Opcode]) -> tuple[int, int]:
    removed = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag != "equal")
    added = sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag != "equal")
    return removed, added
