"""Bugs and an install base generated in bulk for benchmarks (`sustain demo --bugs N`).

Like the ticket generator (demo/tickets.py): rows go in by COPY (PostgreSQL) or executemany
(SQLite), a batch per transaction, bypassing the actions (no notifications); the search index is
filled per batch.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.bugs.models import (
    KEY_PREFIX,
    Bug,
    BugLine,
    BugTicket,
    BugWord,
    LineStatus,
    Severity,
    Status,
)
from sustain.bugs.similar import index as similar_index
from sustain.cmdb.models import ConfigItem, Product, Version
from sustain.core import counters, outbox
from sustain.core.models import Event
from sustain.demo.tickets import VOCABULARY, ZIPF_CUM, BulkTable
from sustain.desk.models import Ticket
from sustain.releases.models import Kind, Release, ReleaseBug
from sustain.releases.models import Status as ReleaseStatus

SYMPTOMS = [
    "crashes when",
    "times out while",
    "shows a blank page after",
    "returns HTTP 500 on",
    "loses data when",
    "is slow when",
    "rounds totals wrongly when",
    "sends duplicate e-mails after",
    "rejects valid input when",
    "leaks memory during",
]
ACTIONS = [
    "exporting invoices to CSV",
    "logging in with SSO",
    "uploading a large attachment",
    "searching with accented words",
    "closing the month",
    "syncing the warehouse stock",
    "printing a PDF report",
    "paying with a saved card",
    "importing customers from Excel",
    "switching the time zone",
]
# Status mix of a mature tracker: most bugs are fixed or closed, a fifth still open.
STATUS_MIX = (
    [Status.NEW] * 8
    + [Status.TRIAGED] * 6
    + [Status.IN_PROGRESS] * 6
    + [Status.FIXED] * 20
    + [Status.VERIFIED] * 20
    + [Status.CLOSED] * 30
    + [Status.WONT_FIX] * 4
    + [Status.CANNOT_REPRODUCE] * 3
    + [Status.DUPLICATE] * 3
)
SEVERITY_MIX = [Severity.BLOCKER] + [Severity.CRITICAL] * 4 + [Severity.MAJOR] * 10
SEVERITY_MIX += [Severity.MINOR] * 8 + [Severity.TRIVIAL] * 3
LINE_FOR_STATUS = {
    Status.FIXED: LineStatus.FIXED,
    Status.VERIFIED: LineStatus.VERIFIED,
    Status.CLOSED: LineStatus.VERIFIED,
    Status.WONT_FIX: LineStatus.WONT_FIX,
}


def _when(moment: datetime) -> Any:
    # Django keeps SQLite times as naive UTC text; PostgreSQL takes aware datetimes.
    return str(moment) if connection.vendor == "sqlite" else moment.replace(tzinfo=UTC)


def bulk_install_base(
    *,
    products: int = 5,
    majors: int = 4,
    minors: int = 2,
    patches: int = 6,
    organizations: int = 2000,
    environments_per_organization: int = 3,
    seed: int = 5,
) -> None:
    """Products with released versions on several lines, and organizations with environments
    running them (older versions more often than newer ones)."""
    rng = random.Random(seed)
    now = timezone.now()
    made_products = []
    for p in range(products):
        product, _ = Product.objects.get_or_create(
            slug=f"bench-product-{p}", defaults={"name": f"Bench product {p}"}
        )
        made_products.append(product)
    releases: list[Release] = []
    for product in made_products:
        if product.versions.exists():
            continue
        numbers = [
            (major, minor, patch)
            for major in range(1, majors + 1)
            for minor in range(minors)
            for patch in range(patches)
        ]
        versions = Version.objects.bulk_create(
            [
                Version(
                    product=product,
                    name=f"{major}.{minor}.{patch}",
                    major=major,
                    minor=minor,
                    patch=patch,
                    released_at=now - timedelta(days=10 * (len(numbers) - i)),
                )
                for i, (major, minor, patch) in enumerate(numbers)
            ]
        )
        previous: dict[tuple[int, int], Release] = {}
        for version in versions:
            kind = Kind.PATCH if version.patch else (Kind.MINOR if version.minor else Kind.MAJOR)
            release = Release.objects.create(
                product=product,
                version=version,
                kind=kind,
                status=ReleaseStatus.RELEASED,
                previous=previous.get((version.major, version.minor)),
                released_at=version.released_at,
            )
            previous[(version.major, version.minor)] = release
            releases.append(release)
    product_versions = {
        product.pk: list(product.versions.values_list("id", flat=True)) for product in made_products
    }
    have = Organization.objects.filter(slug__startswith="bench-org-").count()
    orgs = Organization.objects.bulk_create(
        [
            Organization(name=f"Bench customer {n}", slug=f"bench-org-{n}")
            for n in range(have, organizations)
        ]
    )
    items = []
    for org in orgs:
        for e in range(environments_per_organization):
            product = rng.choice(made_products)
            ids = product_versions[product.pk]
            # Customers lag behind: a triangular pick favours older versions.
            version_id = ids[int(rng.triangular(0, len(ids) - 1, 0))]
            items.append(
                ConfigItem(
                    organization=org,
                    name=f"env-{e}",
                    kind=ConfigItem.Kind.ENVIRONMENT,
                    product=product,
                    version_id=version_id,
                )
            )
    ConfigItem.objects.bulk_create(items, batch_size=2000)


def bulk_bugs(count: int, batch: int = 10_000, progress: bool = True, seed: int = 17) -> None:
    """N bugs over the bench products: a status mix of a mature tracker, one affected version
    and one release-line row each, fixed bugs carried by the release of their fix version, and
    three bugs in five linked to an existing ticket (so impact counts and customer scopes have
    something to read)."""
    from tqdm import tqdm

    rng = random.Random(seed)
    if not Product.objects.filter(slug__startswith="bench-product-").exists():
        bulk_install_base()
    lines: dict[int, dict[tuple[int, int], list[Version]]] = {}
    for version in Version.objects.filter(product__slug__startswith="bench-product-"):
        by_line = lines.setdefault(version.product_id, {})
        by_line.setdefault((version.major, version.minor), []).append(version)
    for by_line in lines.values():
        for versions in by_line.values():
            versions.sort(key=lambda v: v.patch)
    release_of = dict(Release.objects.filter(product_id__in=lines).values_list("version_id", "id"))
    product_ids = sorted(lines)
    span = Ticket.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = span["low"], span["high"]
    first = counters.reserve("bug", count)

    bugs = BulkTable(
        Bug,
        [
            "id",
            "key",
            "title",
            "description",
            "product_id",
            "severity",
            "priority",
            "status",
            "incident_count",
            "organization_count",
            "environment_count",
            "created_at",
            "updated_at",
            "fixed_at",
        ],
    )
    affected = BulkTable(Bug.affected_versions.through, ["bug_id", "version_id"])
    bug_lines = BulkTable(
        BugLine,
        [
            "bug_id",
            "major",
            "minor",
            "status",
            "introduced_in_id",
            "fixed_version_id",
            "updated_at",
        ],
    )
    links = BulkTable(BugTicket, ["bug_id", "ticket_id", "created_at"])
    carried = BulkTable(ReleaseBug, ["release_id", "bug_id", "source", "created_at"])
    events = BulkTable(
        Event,
        ["created_at", "target_type", "target_id", "verb", "before", "after", "is_public"],
    )
    end = timezone.now().replace(tzinfo=None)
    bar = tqdm(total=count, unit="bugs", disable=not progress, smoothing=0.05)
    made = 0
    while made < count:
        size = min(batch, count - made)
        rows: dict[str, list[tuple[Any, ...]]] = {
            "bugs": [],
            "affected": [],
            "lines": [],
            "links": [],
            "carried": [],
            "events": [],
        }
        with outbox.paused(), transaction.atomic():
            ids = bugs.reserve_ids(size)
            for i, bug_id in enumerate(ids):
                n = made + i
                created = end - timedelta(days=730 * (1 - n / count), seconds=rng.random() * 60)
                status = rng.choice(STATUS_MIX)
                product_id = rng.choice(product_ids)
                line, versions = rng.choice(list(lines[product_id].items()))
                seen = rng.choice(versions[:-1] or versions)
                fix = None
                if status in LINE_FOR_STATUS and status != Status.WONT_FIX:
                    later = [v for v in versions if v.patch > seen.patch]
                    fix = rng.choice(later) if later else None
                linked = rng.random() < 0.6 and low is not None
                words = " ".join(rng.choices(VOCABULARY, cum_weights=ZIPF_CUM, k=6))
                rows["bugs"].append(
                    (
                        bug_id,
                        f"{KEY_PREFIX}-{first + n}",
                        f"{rng.choice(ACTIONS).capitalize()} {rng.choice(SYMPTOMS)} {words[:40]}",
                        f"Seen in {seen.name}. Notes: {words}.",
                        product_id,
                        rng.choice(SEVERITY_MIX),
                        rng.randint(1, 4),
                        status,
                        1 if linked else 0,
                        1 if linked else 0,
                        1 if linked else 0,
                        _when(created),
                        _when(created + timedelta(days=rng.randint(0, 30))),
                        _when(created + timedelta(days=3)) if fix else None,
                    )
                )
                rows["affected"].append((bug_id, seen.pk))
                rows["lines"].append(
                    (
                        bug_id,
                        line[0],
                        line[1],
                        LINE_FOR_STATUS.get(status, LineStatus.AFFECTED),
                        seen.pk if rng.random() < 0.5 else None,
                        fix.pk if fix else None,
                        _when(created),
                    )
                )
                if linked:
                    rows["links"].append((bug_id, rng.randint(low, high), _when(created)))
                if fix and fix.pk in release_of:
                    rows["carried"].append((release_of[fix.pk], bug_id, "target", _when(created)))
                rows["events"].append(
                    (
                        _when(created),
                        "bugs.bug",
                        bug_id,
                        "created",
                        "{}",
                        json.dumps({"status": "new"}),
                        False,
                    )
                )
            with Bug.search_index.bulk_insert(ids[0], ids[-1]):
                bugs.insert(rows["bugs"])
            similar_index.fill(Bug, ids[0], ids[-1])
            affected.insert(rows["affected"])
            bug_lines.insert(rows["lines"])
            links.insert(rows["links"])
            carried.insert(rows["carried"])
            events.insert(rows["events"])
        made += size
        bar.update(size)
    bar.close()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (a test's, or a caller's atomic block):
            # there the statistics alone.
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for model in (Bug, BugWord, BugLine, BugTicket, ReleaseBug, ConfigItem, Version):
                cursor.execute(f"{verb} {model._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
