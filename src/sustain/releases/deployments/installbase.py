"""The install base: which environments run a version a bug affects, where its fix shipped,
and which releases an environment is behind.

Versions are compared by semantic version (`cmdb.semver.key`), never by date: a backport
8.0.1 released after 8.1.0 sorts below it. A product has tens to hundreds of versions, so the
version sets are worked out in Python from one small indexed query and the environments are
then fetched by `version_id IN (…)` (the ConfigItem.version foreign-key index) — the cost does
not grow with the number of tickets or bugs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from sustain.accounts.models import Organization
from sustain.bugs.models import AFFECTED_LINE_STATUSES, Bug, BugLine, BugTicket
from sustain.cmdb import semver
from sustain.cmdb.models import ConfigItem, Version
from sustain.releases.models import Deployment, Release, ReleaseBug, Status


def _running(queryset: QuerySet[ConfigItem]) -> QuerySet[ConfigItem]:
    """Configuration items that run something: a version set and not retired."""
    return queryset.filter(version__isnull=False).exclude(status=ConfigItem.Status.RETIRED)


def affected_version_ids(bug: Bug) -> set[int]:
    """Versions of the bug's product that carry it.

    A version is affected when it is listed in the bug's affected versions, or when its line
    (major.minor) has a BugLine in an affected status and the version is at or above the line's
    `introduced_in` (when set) and below its fix. The fix of a line is its `fixed_version`, or
    else the lowest release of that line that carries the bug (a ReleaseBug): a fix shipped in
    8.0.3 means 8.0.3 and later are clean even before anyone filled in the line's fixed version.
    """
    explicit = set(bug.affected_versions.order_by().values_list("id", flat=True))
    lines = list(
        BugLine.objects.filter(bug=bug, status__in=AFFECTED_LINE_STATUSES).select_related(
            "introduced_in", "fixed_version"
        )
    )
    if not lines:
        return explicit
    on_lines = Q()
    for bug_line in lines:
        on_lines |= Q(major=bug_line.major, minor=bug_line.minor)
    versions = list(Version.objects.filter(on_lines, product_id=bug.product_id).order_by())
    shipped = [
        rb.release.version
        for rb in ReleaseBug.objects.filter(bug=bug).select_related("release__version")
        if rb.release.status != Status.WITHDRAWN
    ]
    affected = set(explicit)
    for bug_line in lines:
        fixes = [v for v in shipped if (v.major, v.minor) == (bug_line.major, bug_line.minor)]
        if bug_line.fixed_version is not None:
            fixes.append(bug_line.fixed_version)
        fix_key = min((semver.key(v) for v in fixes), default=None)
        start_key = semver.key(bug_line.introduced_in) if bug_line.introduced_in else None
        for version in versions:
            if (version.major, version.minor) != (bug_line.major, bug_line.minor):
                continue
            key = semver.key(version)
            if start_key is not None and key < start_key:
                continue
            if fix_key is not None and key >= fix_key:
                continue
            affected.add(version.pk)
    return affected


def affected_environments(bug: Bug) -> QuerySet[ConfigItem]:
    """Environments (configuration items of the bug's product with a version) running a version
    the bug affects, by organization and name. Scope it with `tenancy.visible` before showing."""
    ids = affected_version_ids(bug)
    if not ids:
        return ConfigItem.objects.none()
    return (
        _running(ConfigItem.objects.filter(product_id=bug.product_id, version_id__in=ids))
        .select_related("organization", "version", "product")
        .order_by("organization__name", "name", "id")
    )


def affected_organizations(bug: Bug) -> QuerySet[Organization]:
    """Organizations running at least one environment the bug affects."""
    environments = affected_environments(bug)
    return Organization.objects.filter(
        pk__in=environments.order_by().values("organization_id")
    ).order_by("name")


@dataclass
class Shipped:
    """A fix for a bug that reached an environment (and is still there)."""

    environment: ConfigItem
    release: Release
    deployment: Deployment


def shipped_to(bug: Bug, environments: QuerySet[ConfigItem] | None = None) -> list[Shipped]:
    """Environments where a release carrying a fix for the bug was deployed successfully and
    which still run that version or a later one the bug does not affect ("shipped", as opposed
    to "fixed": a commit exists). `environments` narrows the candidates (tenancy)."""
    deployments = (
        Deployment.objects.filter(release__bug_links__bug=bug, status=Deployment.Status.SUCCEEDED)
        .select_related(
            "release__version",
            "environment__organization",
            "environment__version",
            "environment__product",
        )
        .order_by("-finished_at", "-id")
    )
    if environments is not None:
        deployments = deployments.filter(environment__in=environments)
    affected = None
    rows: dict[int, Shipped] = {}
    for deployment in deployments:
        env = deployment.environment
        if env.pk in rows or env.version is None or env.status == ConfigItem.Status.RETIRED:
            continue
        if semver.key(env.version) < semver.key(deployment.release.version):
            continue  # moved back below the fix since
        if affected is None:
            affected = affected_version_ids(bug)
        if env.version_id in affected:
            continue  # a later version on a line that never got the fix
        rows[env.pk] = Shipped(env, deployment.release, deployment)
    return sorted(
        rows.values(), key=lambda s: (s.environment.organization.name, s.environment.name)
    )


@dataclass(frozen=True)
class Fix:
    """A bug as an update list shows it: key and title (whole rows would cost the most)."""

    pk: int
    key: str
    title: str


@dataclass
class PendingUpdate:
    """A released version newer than what an environment runs: how many fixes it carries, and
    those for bugs the environment's organization reported (linked to its tickets, or seen on
    one of its environments). The whole list of a release's fixes is on its page and in its
    notes; an old environment is behind thousands of them."""

    release: Release
    fix_count: int = 0
    reported: list[Fix] = field(default_factory=list)

    @property
    def fixes_reported(self) -> bool:
        return bool(self.reported)


def newer_releases(environment: ConfigItem) -> list[Release]:
    """Released versions of the environment's product above the one it runs, oldest first
    (newer lines included)."""
    current = environment.version
    if environment.product_id is None or current is None:
        return []
    candidates = (
        Release.objects.filter(
            semver.at_least(current, "version"),
            product_id=environment.product_id,
            status=Status.RELEASED,
        )
        .select_related("version")
        .order_by()
    )  # sorted here, by semantic version
    here = semver.key(current)
    newer = sorted(
        (r for r in candidates if semver.key(r.version) > here),
        key=lambda r: semver.key(r.version),
    )
    product = environment.product
    assert product is not None  # product_id is set (checked above)
    for release in newer:
        release.product = product  # the same row for all: no join, no copies
    return newer


def reported_by(organization_id: int) -> Q:
    """A ReleaseBug filter: bugs the organization reported — linked to one of its tickets, or
    seen on one of its environments (subqueries the database runs once)."""
    linked = BugTicket.objects.filter(ticket__organization_id=organization_id).values("bug_id")
    seen = Bug.objects.filter(environment__organization_id=organization_id).values("pk")
    return Q(bug_id__in=linked) | Q(bug_id__in=seen)


def bugs_fixed_by(releases: Iterable[Release]) -> dict[int, list[Bug]]:
    """The bugs each release fixes, by release id, in key order."""
    by_release: dict[int, list[Bug]] = {}
    # Only what lists and notices show: an old environment is behind hundreds of releases
    # carrying thousands of fixes, and whole bug rows (descriptions) would cost the most.
    links = (
        ReleaseBug.objects.filter(release__in=[r.pk for r in releases])
        .select_related("bug")
        .only(
            "release",
            "bug__key",
            "bug__title",
            "bug__status",
            "bug__product",
            "bug__environment",
        )
        .order_by("bug_id")
    )
    for link in links:
        by_release.setdefault(link.release_id, []).append(link.bug)
    return by_release


def pending_updates(environment: ConfigItem) -> list[PendingUpdate]:
    """The releases the environment is behind, oldest first, each with how many fixes it
    carries and those for bugs the environment's organization reported. Three queries, none
    returning a row per fix: an old environment is behind thousands of them."""
    releases = newer_releases(environment)
    if not releases:
        return []
    ids = [r.pk for r in releases]
    counts = dict(
        ReleaseBug.objects.filter(release__in=ids)
        .order_by()
        .values_list("release_id")
        .annotate(n=Count("id"))
        .values_list("release_id", "n")
    )
    ours: dict[int, list[Fix]] = {}
    organization_id: int = environment.organization_id  # type: ignore[assignment]
    reported = (
        ReleaseBug.objects.filter(reported_by(organization_id), release__in=ids)
        .order_by("release_id", "bug_id")
        .values_list("release_id", "bug_id", "bug__key", "bug__title")
    )
    for release_id, bug_id, key, title in reported:
        ours.setdefault(release_id, []).append(Fix(bug_id, key, title))
    return [
        PendingUpdate(release=r, fix_count=counts.get(r.pk, 0), reported=ours.get(r.pk, []))
        for r in releases
    ]


def behind_counts(environments: Iterable[ConfigItem]) -> dict[int, int]:
    """How many released versions each environment is behind (one query per product)."""
    environments = [e for e in environments if e.version is not None and e.product_id]
    counts: dict[int, int] = {}
    by_product: dict[int, list[ConfigItem]] = {}
    for env in environments:
        by_product.setdefault(env.product_id, []).append(env)  # type: ignore[arg-type]
    for product_id, envs in by_product.items():
        keys = sorted(
            semver.key(v)
            for v in Version.objects.filter(product_id=product_id, release__status=Status.RELEASED)
        )
        for env in envs:
            here = semver.key(env.version)
            counts[env.pk] = sum(1 for k in keys if k > here)
    return counts


def between(product_id: int, old: Version | None, new: Version) -> list[Release]:
    """The releases an upgrade from `old` to `new` delivers, oldest first: released versions
    above `old` up to `new`, and `new` itself — a jump 8.0.0 → 8.0.3 delivers 8.0.1 and 8.0.2
    too. From an unknown version only `new` counts; a downgrade delivers nothing."""
    high = semver.key(new)
    if old is None:
        return list(Release.objects.filter(version=new).select_related("version"))
    low = semver.key(old)
    candidates = Release.objects.filter(
        semver.at_least(old, "version"), product_id=product_id
    ).select_related("version")
    chosen = [
        r
        for r in candidates
        if low < semver.key(r.version) <= high
        and (r.version_id == new.pk or r.status == Status.RELEASED)
    ]
    return sorted(chosen, key=lambda r: semver.key(r.version))
