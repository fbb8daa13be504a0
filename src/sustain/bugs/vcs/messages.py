"""Bug keys named in commit messages: `Fixes BUG-12` fixes it, `Refs BUG-12` links it.

A keyword (any case, an optional colon, as in a Git trailer `Fixes: BUG-12`) is followed by
one key or a list of them: `Fixes BUG-1, BUG-2 and #BUG-3`. A key named without a keyword
does nothing: "the follow-up to BUG-7" in a message must not close BUG-7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sustain.bugs.models import KEY_PREFIX

FIX_WORDS = (
    "fix",
    "fixes",
    "fixed",
    "close",
    "closes",
    "closed",
    "resolve",
    "resolves",
    "resolved",
)
REF_WORDS = ("ref", "refs", "references", "see")

_KEY = rf"#?{KEY_PREFIX}-[0-9]{{1,9}}(?![\w-])"
_SEPARATOR = r"(?:[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+|[ \t]*&[ \t]*|[ \t]+)"
_WORDS = "|".join(sorted(FIX_WORDS + REF_WORDS, key=len, reverse=True))
MENTION = re.compile(
    rf"(?<![\w-])(?P<word>{_WORDS})[ \t]*:?[ \t]*(?P<keys>{_KEY}(?:{_SEPARATOR}{_KEY})*)",
    re.IGNORECASE | re.ASCII,
)
KEY = re.compile(rf"{KEY_PREFIX}-([0-9]+)", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class Mentions:
    """The keys a message fixes and refers to, in order of first mention, each once; a key
    both fixed and referred to counts as fixed."""

    fixes: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fixes or self.refs)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.fixes + self.refs


def normalize_key(text: str) -> str:
    """`#bug-012` -> `BUG-12`."""
    match = KEY.search(text)
    if match is None:
        raise ValueError(f"not a bug key: {text!r}")
    return f"{KEY_PREFIX}-{int(match.group(1))}"


def parse(message: str) -> Mentions:
    fixes: dict[str, None] = {}
    refs: dict[str, None] = {}
    for match in MENTION.finditer(message or ""):
        target = fixes if match.group("word").lower() in FIX_WORDS else refs
        for key in KEY.finditer(match.group("keys")):
            target.setdefault(f"{KEY_PREFIX}-{int(key.group(1))}", None)
    return Mentions(tuple(fixes), tuple(k for k in refs if k not in fixes))
