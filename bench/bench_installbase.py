"""Figures: the affected environments of a bug, and the pending updates of an environment,
p95 at one million tickets and 100,000 bugs. Target: each under 50 ms.

The data set (kept in the data directory for later runs, generated when missing):
`sustain demo --tickets 1000000`, then an install base of 2,000 customers with 3 environments
each over 5 products × 200 versions (1,000 released releases; customers lag behind, older
versions more often), then 100,000 bugs with their release lines, affected versions, ticket
links and the releases that carry their fixes (`sustain.demo.bugs`).

What is timed, in this process (no HTTP), as the API and the pages do it:
- affected environments: the bug read by its key, `installbase.affected_environments(bug)`
  evaluated to a list of rows (environment, organization, version names);
- pending updates: the environment read with its product and version,
  `installbase.pending_updates(env)`: each release with its count of fixes and the fixes for
  bugs the organization reported (key and title).
Random bugs and environments (fixed seed), a warm-up round, then nearest-rank percentiles.

    SUSTAIN_DATA_DIR=/tmp/h5-bench-sqlite .venv/bin/python bench/bench_installbase.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h5bench SUSTAIN_DATA_DIR=/tmp/h5-bench-pg \
        .venv/bin/python bench/bench_installbase.py
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUSTAIN = os.environ.get("SUSTAIN_CLI", str(ROOT / ".venv" / "bin" / "sustain"))
TARGET_MS = 50.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    import django

    django.setup()


def ensure_data(tickets: int, bugs: int) -> None:
    """Generate what is missing: tickets (a subprocess, as an administrator would), then the
    install base and the bugs in this process."""
    from sustain.bugs.models import Bug
    from sustain.cmdb.models import Product
    from sustain.demo.bugs import bulk_bugs, bulk_install_base
    from sustain.desk.models import Ticket

    have = Ticket.objects.count()
    if have < tickets:
        print(f"generating {tickets - have} tickets …", flush=True)
        subprocess.run([SUSTAIN, "demo", "--tickets", str(tickets - have)], check=True)
    if not Product.objects.filter(slug__startswith="bench-product-").exists():
        print("generating the install base …", flush=True)
        # 5 products × (10 majors × 4 minors × 5 patches) = 1,000 versions and releases.
        bulk_install_base(products=5, majors=10, minors=4, patches=5)
    have = Bug.objects.count()
    if have < bugs:
        print(f"generating {bugs - have} bugs …", flush=True)
        bulk_bugs(bugs - have)


def time_ms(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--bugs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") and not os.environ.get("SUSTAIN_DATA_DIR"):
        sys.exit("Set SUSTAIN_DATA_DIR (a directory under /tmp) or DATABASE_URL.")
    setup_django()
    ensure_data(args.tickets, args.bugs)

    from django.db import connection
    from django.db.models import Max, Min

    from sustain.bugs.models import Bug
    from sustain.cmdb.models import ConfigItem
    from sustain.desk.models import Ticket
    from sustain.releases.deployments import installbase
    from sustain.releases.models import Release

    rng = random.Random(args.seed)
    span = Bug.objects.aggregate(low=Min("id"), high=Max("id"))
    keys = list(
        Bug.objects.filter(
            pk__in=[rng.randint(span["low"], span["high"]) for _ in range(args.samples)]
        ).values_list("key", flat=True)
    )
    env_ids = list(
        ConfigItem.objects.filter(product__slug__startswith="bench-product-").values_list(
            "id", flat=True
        )
    )
    envs = rng.sample(env_ids, min(args.samples, len(env_ids)))

    def affected(key: str) -> list[tuple]:
        bug = Bug.objects.get(key=key)
        return [
            (e.pk, e.name, e.organization.name, e.version.name)
            for e in installbase.affected_environments(bug)
        ]

    def updates(env_id: int) -> list[tuple]:
        env = ConfigItem.objects.select_related("organization", "product", "version").get(pk=env_id)
        return [
            (u.release.name, u.fix_count, [b.key for b in u.reported])
            for u in installbase.pending_updates(env)
        ]

    sizes_a = [len(affected(k)) for k in keys[:50]]  # warm-up, and what a list holds
    sizes_u = [len(updates(e)) for e in envs[:50]]
    rounds_a = [time_ms(affected, k) for k in keys]
    rounds_u = [time_ms(updates, e) for e in envs]

    print(
        f"data: {Ticket.objects.count():,} tickets, {Bug.objects.count():,} bugs, "
        f"{len(env_ids):,} environments, {Release.objects.count():,} releases "
        f"({connection.vendor})"
    )
    print(
        f"affected environments per bug: mean {sum(sizes_a) / len(sizes_a):.0f} rows; "
        f"p50 {percentile(rounds_a, 50):.1f} ms, p99 {percentile(rounds_a, 99):.1f} ms"
    )
    print(
        f"pending updates per environment: mean {sum(sizes_u) / len(sizes_u):.0f} releases; "
        f"p50 {percentile(rounds_u, 50):.1f} ms, p99 {percentile(rounds_u, 99):.1f} ms"
    )
    p95_a, p95_u = percentile(rounds_a, 95), percentile(rounds_u, 95)
    print(
        f"FIGURE affected environments of a bug p95: {p95_a:.1f} ms (target < {TARGET_MS:.0f} ms)"
    )
    print(
        f"FIGURE pending updates of an environment p95: {p95_u:.1f} ms "
        f"(target < {TARGET_MS:.0f} ms)"
    )
    sys.exit(0 if max(p95_a, p95_u) < TARGET_MS else 1)


if __name__ == "__main__":
    main()
