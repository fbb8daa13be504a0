"""Semantic-version ordering: releases and environments are compared by version, never by date."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from sustain.cmdb.models import SEMVER


def parse(name: str) -> tuple[int, int, int, str] | None:
    """(major, minor, patch, prerelease) of a version name, or None when it is not semver."""
    match = SEMVER.match((name or "").strip())
    if not match:
        return None
    major, minor, patch, prerelease, _build = match.groups()
    return int(major), int(minor), int(patch), prerelease or ""


def _prerelease_key(prerelease: str) -> tuple:
    # A release sorts after its pre-releases; identifiers compare numerically when numeric.
    if not prerelease:
        return (1,)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in prerelease.split("."))
    return (0, parts)


def key(version: Any) -> tuple:
    """A sort key for a cmdb Version (or anything with major, minor, patch, prerelease)."""
    return (
        version.major,
        version.minor,
        version.patch,
        _prerelease_key(getattr(version, "prerelease", "")),
    )


def line(version: Any) -> tuple[int, int]:
    """The release line of a version: (major, minor)."""
    return version.major, version.minor


def below(version: Any, prefix: str = "") -> Q:
    """Versions strictly lower than `version` as a filter (pre-releases ignored)."""
    p = f"{prefix}__" if prefix else ""
    return (
        Q(**{f"{p}major__lt": version.major})
        | Q(**{f"{p}major": version.major, f"{p}minor__lt": version.minor})
        | Q(
            **{
                f"{p}major": version.major,
                f"{p}minor": version.minor,
                f"{p}patch__lt": version.patch,
            }
        )
    )


def at_least(version: Any, prefix: str = "") -> Q:
    """Versions equal to or higher than `version` as a filter."""
    return ~below(version, prefix)
