"""Configuration text compared and shown: secrets masked, the lines drift ignores dropped, and
diffs (unified, and side by side with collapsed context) from the standard library's difflib.

Masking works on lines of the shape every format here shares, `key: value` (YAML),
`key = value` (INI, TOML, properties) and `"key": value` (JSON), and on passwords inside URLs
(`postgres://user:secret@host`); what it cannot parse is left as it is, so a secret in free
text is the writer's to keep out.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

from django.conf import settings

from sustain.core.errors import Invalid

MASK = "••••••"
CONTEXT = 3  # unchanged lines kept around each change
_ASSIGNMENT = re.compile(
    r"""^(?P<head>\s*(?:-\s+)?["']?(?P<key>[A-Za-z0-9_.\-]+)["']?\s*[:=]\s*)"""
    r"""(?P<value>.*?)(?P<tail>\s*,?\s*)$"""
)
_URL_PASSWORD = re.compile(r"(?P<head>//[^/:@\s]+:)(?P<secret>[^@\s/]+)(?P<at>@)")


@functools.lru_cache(maxsize=8)
def _secret_keys(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def key_of(line: str) -> str | None:
    """The key a line assigns, or None."""
    found = _ASSIGNMENT.match(line)
    return found["key"] if found else None


def mask_line(line: str) -> str:
    secret = _secret_keys(settings.CONFIG_SECRET_KEYS)
    line = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", line)
    found = _ASSIGNMENT.match(line)
    if found is None or not secret.search(found["key"]):
        return line
    value = found["value"]
    if not value or value in ("{", "[", "|", ">", "null", "~", '""', "''"):
        return line  # a block opens, or nothing is set: no secret on this line
    quote = value[0] if value[0] in "\"'" and value[-1:] == value[0] else ""
    return f"{found['head']}{quote}{MASK}{quote}{found['tail']}"


def mask(text: str) -> str:
    return "\n".join(mask_line(line) for line in text.split("\n"))


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
def unified(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.split("\n"), new.split("\n"), old_name, new_name, n=CONTEXT, lineterm=""
    )
    return "\n".join(lines)


@dataclass
class Row:
    """One row of a side-by-side diff; `tag` is equal, replace, delete, insert or skip (the
    unchanged lines left out, `left` then says how many)."""

    tag: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(old: str, new: str, context: int = CONTEXT) -> list[Row]:
    a, b = old.split("\n"), new.split("\n")
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=True)
    for group in matcher.get_grouped_opcodes(context):
        first = group[0]
        if rows or first[1] > 0:
            rows.append(Row("skip", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    Row("equal", i + 1, a[i], j1 + (i - i1) + 1, b[j1 + i - i1])
                    for i in range(i1, i2)
                ]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                rows.append(
                    Row(
                        tag if i < i2 and j < j2 else ("delete" if i < i2 else "insert"),
                        i + 1 if i < i2 else None,
                        a[i] if i < i2 else "",
                        j + 1 if j < j2 else None,
                        b[j] if j < j2 else "",
                    )
                )
    return rows


def changed_lines(old: str, new: str) -> tuple[int, int]:
    """(lines removed, lines added) from `old` to `new`."""
    removed = added = 0
    matcher = difflib.SequenceMatcher(None, old.split("\n"), new.split("\n"), autojunk=True)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return removed, added
