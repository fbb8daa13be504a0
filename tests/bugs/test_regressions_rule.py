"""The regression rule on semantic versions alone, for any versions (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from sustain.bugs.regressions import decide

numbers = st.integers(min_value=0, max_value=30)
versions = st.tuples(numbers, numbers, numbers, st.just((1,)))  # semver.key of a release
line_status = st.sampled_from(["affected", "fix_planned", "fixed", "verified", "wont_fix"])


@given(
    version=versions,
    fixed_patch=numbers,
    others=st.dictionaries(
        st.tuples(numbers, numbers), st.tuples(line_status, st.none() | versions), max_size=4
    ),
)
def test_on_a_line_with_a_fix_only_versions_from_the_fix_on_regress(version, fixed_patch, others):
    line = (version[0], version[1])
    fixed = (version[0], version[1], fixed_patch, (1,))
    lines = {**others, line: ("fixed", fixed)}
    assert decide(version, lines) == (version >= fixed)


@given(
    version=versions,
    status=st.sampled_from(["affected", "fix_planned", "wont_fix"]),
    others=st.dictionaries(
        st.tuples(numbers, numbers), st.tuples(line_status, versions), max_size=4
    ),
)
def test_a_line_known_unfixed_never_regresses(version, status, others):
    lines = {**others, (version[0], version[1]): (status, None)}
    assert decide(version, lines) is False


@given(version=versions, fixes=st.lists(versions, min_size=1, max_size=4))
def test_lines_without_a_row_follow_the_highest_fix(version, fixes):
    lines = {(f[0], f[1]): ("fixed", f) for f in fixes}
    lines.pop((version[0], version[1]), None)
    if not lines:
        return
    highest = max(f for _s, f in lines.values())
    expected = (version[0], version[1]) > (highest[0], highest[1])
    assert decide(version, lines) == expected


@given(version=versions)
def test_without_any_fix_recorded_every_version_regresses(version):
    assert decide(version, {}) is True
