"""Which version numbers a release kind allows, judged by semantic version (never by date).

The versions already taken are every CMDB version of the product (released, planned, or run
by an environment before Sustain knew of releases), except the one the new release reuses.

- major: X.0.0 with X above every existing major;
- minor: X.Y.0 with Y above every minor of major X (a product's first release may be one);
- patch: X.Y.Z on an existing line X.Y, Z above every version of that line, planned or not;
- hotfix: like a patch, but Z only has to be above the line's *released* versions: an urgent
  fix jumps ahead of a patch already planned for the line (which then takes the next number).

A backport is a patch on an older line: 8.0.1 after 8.1.0 is judged against line 8.0 only,
and its previous release is 8.0.0, not 8.1.0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sustain.cmdb import semver
from sustain.cmdb.models import Product, Version
from sustain.core.errors import Invalid
from sustain.releases.models import Kind, Release, Status


def _name(numbers: tuple[int, int, int]) -> str:
    return ".".join(str(n) for n in numbers)


def _is_released(version: Version, releases: dict[int, Release]) -> bool:
    release = releases.get(version.pk)
    if release is None:  # a version Sustain knew before releases: shipped at some point
        return True
    return release.status == Status.RELEASED


def check_kind(
    product: Product, numbers: tuple[int, int, int], kind: str, *, reusing: Version | None = None
) -> None:
    """Refuse (422 naming `version`) a number that does not fit the kind."""
    if kind not in Kind.values:
        raise Invalid(f"kind must be one of {', '.join(Kind.values)}.", field="kind")
    major, minor, patch = numbers
    versions = [
        v for v in product.versions.filter(prerelease="") if reusing is None or v.pk != reusing.pk
    ]
    releases = {
        r.version_id: r for r in Release.objects.filter(version__in=[v.pk for v in versions])
    }
    name = _name(numbers)
    if kind == Kind.MAJOR:
        _check_major(versions, name, major, minor, patch)
    elif kind == Kind.MINOR:
        _check_minor(versions, name, major, minor, patch)
    else:
        line = [v for v in versions if (v.major, v.minor) == (major, minor)]
        if kind == Kind.HOTFIX:
            line = [v for v in line if _is_released(v, releases)]
        what = "a hotfix" if kind == Kind.HOTFIX else "a patch"
        if not [v for v in versions if (v.major, v.minor) == (major, minor)]:
            raise Invalid(
                f"{name} is {what} of {major}.{minor}, but {product.name} has no line "
                f"{major}.{minor}: release {major}.{minor}.0 as a minor (or major) first.",
                field="version",
            )
        if patch == 0:
            raise Invalid(
                f"{name} is not {what}: a patch number above 0 is expected.", field="version"
            )
        latest = max(line, key=semver.key, default=None)
        if latest is not None and patch <= latest.patch:
            qualifier = "released " if kind == Kind.HOTFIX else ""
            raise Invalid(
                f"{name} is {what} of {major}.{minor} but the line's latest {qualifier}version "
                f"is {latest.name}: expected {major}.{minor}.{latest.patch + 1} or above.",
                field="version",
            )


def _check_major(versions: list[Version], name: str, major: int, minor: int, patch: int) -> None:
    if minor or patch:
        raise Invalid(f"{name} is not a major release: expected {major}.0.0.", field="version")
    top = max(versions, key=semver.key, default=None)
    if top is not None and major <= top.major:
        raise Invalid(
            f"{name} is a major release but the latest version is {top.name}: expected "
            f"{top.major + 1}.0.0 or above.",
            field="version",
        )


def _check_minor(versions: list[Version], name: str, major: int, minor: int, patch: int) -> None:
    if patch:
        raise Invalid(
            f"{name} is not a minor release: expected {major}.{minor}.0.", field="version"
        )
    if not versions:
        return  # the product's first release
    same_major = [v for v in versions if v.major == major]
    if not same_major:
        top = max(versions, key=semver.key)
        raise Invalid(
            f"{name} is a minor release of {major}, but there is no {major}.x yet (the latest "
            f"version is {top.name}): release {major}.0.0 as a major.",
            field="version",
        )
    top = max(same_major, key=semver.key)
    if minor <= top.minor:
        raise Invalid(
            f"{name} is a minor release of {major} but its latest line is "
            f"{top.major}.{top.minor} ({top.name}): expected {major}.{top.minor + 1}.0 or above.",
            field="version",
        )


def previous_release(
    product: Product, version: Any, *, exclude: Iterable[int] = ()
) -> Release | None:
    """The release just below `version` by semantic version (any line), or None."""
    candidates = (
        Release.objects.filter(product=product)
        .exclude(status=Status.WITHDRAWN)
        .exclude(pk__in=list(exclude))
        .filter(semver.below(version, "version"))
        .select_related("version")
    )
    return max(candidates, key=lambda r: semver.key(r.version), default=None)
