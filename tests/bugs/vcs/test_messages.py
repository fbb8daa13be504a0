"""Bug keys in commit messages: which fix, which refer, which do nothing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sustain.bugs.vcs.messages import FIX_WORDS, REF_WORDS, Mentions, normalize_key, parse


@pytest.mark.parametrize(
    ("message", "fixes", "refs"),
    [
        ("Fixes BUG-12", ["BUG-12"], []),
        ("Closes BUG-12", ["BUG-12"], []),
        ("Resolves BUG-12", ["BUG-12"], []),
        ("fix bug-12", ["BUG-12"], []),
        ("FIXED: BUG-12", ["BUG-12"], []),
        ("closed BUG-3\n\nresolved BUG-4", ["BUG-3", "BUG-4"], []),
        ("Fixes BUG-1, BUG-2 and BUG-3", ["BUG-1", "BUG-2", "BUG-3"], []),
        ("Fixes #BUG-12", ["BUG-12"], []),
        ("Fixes BUG-1 & BUG-2", ["BUG-1", "BUG-2"], []),
        ("Subject\n\nLonger body.\n\nFixes: BUG-7\nSigned-off-by: R", ["BUG-7"], []),
        ("Refs BUG-12", [], ["BUG-12"]),
        ("Ref: BUG-12", [], ["BUG-12"]),
        ("References BUG-12, BUG-13", [], ["BUG-12", "BUG-13"]),
        ("see BUG-4; closes BUG-5", ["BUG-5"], ["BUG-4"]),
        ("Refs BUG-1\nFixes BUG-1", ["BUG-1"], []),
        ("Fixes BUG-012", ["BUG-12"], []),
        ("Fixes BUG-1 and the crash of BUG-2", ["BUG-1"], []),
        ("Fixes BUG-2, fixes BUG-2 again", ["BUG-2"], []),
    ],
)
def test_keywords(message: str, fixes: list[str], refs: list[str]) -> None:
    assert parse(message) == Mentions(tuple(fixes), tuple(refs))


@pytest.mark.parametrize(
    "message",
    [
        "Follow-up to BUG-7",
        "BUG-7: tidy up",
        "prefixes BUG-9 with a dash",
        "Unfixed BUG-9",
        "Fixes BUG-12abc",
        "Fixes BUG-",
        "Fixes the BUG-3 crash",
        "Fixes ISSUE-3",
        "fixes-BUG-3",
        "Fixes BUG-\u0663",  # ARABIC-INDIC DIGIT THREE: keys are ASCII
        "",
    ],
)
def test_a_key_without_a_keyword_does_nothing(message: str) -> None:
    assert not parse(message)


def test_normalize_key() -> None:
    assert normalize_key("#bug-012") == "BUG-12"
    with pytest.raises(ValueError):
        normalize_key("INC-1")


KEYWORDS = st.sampled_from(FIX_WORDS + REF_WORDS).flatmap(
    lambda w: st.sampled_from([w, w.upper(), w.capitalize()])
)
NUMBERS = st.integers(min_value=1, max_value=10**6)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(TEXT)
def test_never_fails_and_names_only_keys_in_the_text(text: str) -> None:
    found = parse(text)
    assert not set(found.fixes) & set(found.refs)
    numbers = {int(n) for n in re.findall(r"(?i)bug-([0-9]+)", text)}
    assert {int(k.split("-")[1]) for k in found.keys} <= numbers


@given(TEXT, TEXT)
def test_text_without_keywords_names_nothing(before: str, after: str) -> None:
    words = "|".join(FIX_WORDS + REF_WORDS)
    text = f"{before} BUG-5 {after}"
    if not re.search(rf"(?i)(?<![\w-])({words})", text):
        assert not parse(text)


@given(TEXT, KEYWORDS, st.lists(NUMBERS, min_size=1, max_size=5), st.booleans(), TEXT)
def test_keyword_and_keys_are_found_anywhere(
    before: str, word: str, numbers: list[int], colon: bool, after: str
) -> None:
    keys = [f"BUG-{n}" for n in numbers]
    message = f"{before}\n{word}{':' if colon else ''} {', '.join(keys)}\n{after}"
    found = parse(message)
    if word.lower() in FIX_WORDS:
        assert set(keys) <= set(found.fixes)
    else:
        assert set(keys) <= set(found.fixes) | set(found.refs)


@given(st.lists(NUMBERS, min_size=1, max_size=8), st.sampled_from([", ", " and ", " & ", " "]))
def test_lists_keep_order_and_each_key_once(numbers: list[int], separator: str) -> None:
    keys = [f"BUG-{n}" for n in numbers]
    found = parse("Fixes " + separator.join(keys))
    assert found.fixes == tuple(dict.fromkeys(keys))
    assert found.refs == ()
