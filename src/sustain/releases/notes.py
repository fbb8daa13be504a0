"""Release notes in Markdown, generated from the contents: one for customers (fixed bugs in
plain words, public changes, known issues), one for the team (bug keys, severities, incident
counts, commits, internal changes, test evidence)."""

from __future__ import annotations

import re

from django.db.models import Prefetch

from sustain.bugs.models import BugCommit
from sustain.core.text import render_markdown
from sustain.releases import gate
from sustain.releases.models import Release, ReleaseBug, ReleaseChange, TestRun

CHANGE_HEADINGS = {
    ReleaseChange.Kind.SECURITY: "Security",
    ReleaseChange.Kind.FEATURE: "New features",
    ReleaseChange.Kind.IMPROVEMENT: "Improvements",
    ReleaseChange.Kind.OTHER: "Other changes",
}

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def escape(text: str) -> str:
    """A title as literal text in Markdown (one line, no markup)."""
    return _SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _links(release: Release) -> list[ReleaseBug]:
    return list(
        release.bug_links.select_related("bug")
        .prefetch_related(
            Prefetch(
                "bug__commit_links",
                queryset=BugCommit.objects.filter(kind=BugCommit.Kind.FIXES)
                .select_related("commit")
                .order_by("commit__committed_at", "id"),
            )
        )
        .order_by("bug__id")
    )


def _header(release: Release) -> str:
    kind = release.get_kind_display().capitalize()
    if release.released_at:
        when = f"released {release.released_at:%Y-%m-%d}"
    elif release.planned_for:
        when = f"planned for {release.planned_for:%Y-%m-%d}"
    else:
        when = "not yet released"
    return f"# {escape(release.product.name)} {release.version.name}\n\n*{kind} release, {when}.*\n"


def customer_notes(release: Release) -> str:
    parts = [_header(release)]
    if release.summary.strip():
        parts.append(release.summary.strip() + "\n")
    links = _links(release)
    if links:
        parts.append(
            "## Fixed\n\n"
            + "\n".join(f"- {escape(link.bug.title)} ({link.bug.key})" for link in links)
            + "\n"
        )
    changes = list(release.changes.filter(is_public=True).order_by("id"))
    for kind, heading in CHANGE_HEADINGS.items():
        rows = [c for c in changes if c.kind == kind]
        if rows:
            parts.append(f"## {heading}\n\n" + "\n".join(_change_line(c) for c in rows) + "\n")
    if release.known_issues.strip():
        parts.append("## Known issues\n\n" + release.known_issues.strip() + "\n")
    if len(parts) == 1:
        parts.append("No changes listed yet.\n")
    return "\n".join(parts)


def _change_line(change: ReleaseChange, *, internal: bool = False) -> str:
    line = f"- {escape(change.title)}"
    if change.description.strip():
        line += f": {escape(change.description)}"
    if internal and not change.is_public:
        line += " *(internal)*"
    return line


def internal_notes(release: Release) -> str:
    previous = release.previous.version.name if release.previous else "none"
    facts = f"Kind: {release.kind} · Status: {release.status} · Previous release: {previous}"
    if release.repository:
        span = f"{release.from_tag or '(start)'}..{release.to_tag or '(none)'}"
        facts += f" · Repository: {escape(release.repository.name)} {escape(span)}"
    parts = [f"# {escape(release.product.name)} {release.version.name} (internal)\n", facts + "\n"]
    if release.summary.strip():
        parts.append(release.summary.strip() + "\n")
    links = _links(release)
    rows = [
        "| Bug | Title | Severity | Status | Incidents | Included by |",
        "|---|---|---|---|---|---|",
    ]
    for link in links:
        bug = link.bug
        rows.append(
            f"| {bug.key} | {escape(bug.title)} | {bug.severity} | {bug.status} "
            f"| {bug.incident_count} | {link.get_source_display()} |"
        )
    parts.append("## Bugs\n\n" + ("\n".join(rows) if links else "None.") + "\n")
    commits = []
    for link in links:
        for bc in link.bug.commit_links.all():
            branch = f" ({escape(bc.branch)})" if bc.branch else ""
            commits.append(
                f"- `{bc.commit.sha[:10]}` {escape(bc.commit.subject)}{branch}, {link.bug.key}"
            )
    parts.append("## Commits\n\n" + ("\n".join(commits) if commits else "None recorded.") + "\n")
    changes = list(release.changes.order_by("id"))
    if changes:
        parts.append(
            "## Changes\n\n"
            + "\n".join(f"{_change_line(c, internal=True)} [{c.kind}]" for c in changes)
            + "\n"
        )
    parts.append("## Test evidence\n\n" + _evidence(release) + "\n")
    if release.known_issues.strip():
        parts.append("## Known issues\n\n" + release.known_issues.strip() + "\n")
    return "\n".join(parts)


def _evidence(release: Release) -> str:
    runs = list(TestRun.objects.filter(release=release).order_by("-id")[:10])
    if not runs:
        return "No test run reported."
    lines = []
    for run in runs:
        link = f" ([report]({run.url}))" if run.url else ""
        lines.append(
            f"- {escape(run.name)}: **{run.result}**, {run.passed} passed, {run.failed} failed, "
            f"{run.skipped} skipped{link}"
        )
    checks = gate.evaluate(release)
    verdict = "passes" if checks.ok else "fails: " + "; ".join(c.message for c in checks.failing)
    return "\n".join(lines) + f"\n\nQuality gate {verdict}"


def generate(release: Release) -> bool:
    """Regenerate both texts unless someone edited them by hand; whether they were written.
    The caller saves the release."""
    if release.notes_edited:
        return False
    release.customer_notes = customer_notes(release)
    release.internal_notes = internal_notes(release)
    return True


def html(text: str) -> str:
    return render_markdown(text)
