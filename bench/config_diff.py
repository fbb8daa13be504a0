"""Figure: the diff of two 10,000-line configuration versions, 1 % of the lines changed, and
a full rewrite; what `cmdb.configs.compare` does for a page or the API (secrets masked for a
non-admin, the side-by-side rows, the unified diff and the counts).

    .venv/bin/python bench/config_diff.py [--lines 10000] [--repeat 20]

Targets (issue 14): 1 % changed under 100 ms, a full rewrite under 1 s. Prints the median
and the worst of the repeats.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
os.environ.setdefault("SUSTAIN_DATA_DIR", "/tmp/sustain-bench-config-diff")

import django

django.setup()

from sustain.cmdb import diffs  # noqa: E402


def document(lines: int, rng: random.Random, tag: str = "") -> list[str]:
    """A config-like text: sections, assignments (some secrets), comments and blank lines."""
    out = []
    for i in range(lines):
        if i % 50 == 0:
            out.append(f"[section_{i // 50}{tag}]")
        elif i % 17 == 0:
            out.append("")
        elif i % 23 == 0:
            out.append(f"# note {i}{tag}: {rng.random():.6f}")
        elif i % 97 == 0:
            out.append(f"password_{i} = secret-{rng.randrange(10**9)}{tag}")
        else:
            out.append(f"key_{i} = value-{rng.randrange(10**9)}{tag}")
    return out


def compare(old: str, new: str) -> int:
    found = diffs.compare(diffs.mask(old), diffs.mask(new), "a", "b")
    return found.removed + found.added + len(found.rows) + len(found.unified)


def timed(old: str, new: str, repeat: int) -> tuple[float, float]:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        compare(old, new)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000, max(took) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    base = document(args.lines, rng)
    changed = list(base)
    for i in rng.sample(range(len(base)), len(base) // 100):
        changed[i] = changed[i] + " # changed"
    rewrite = document(args.lines, random.Random(8), tag="-new")
    old = "\n".join(base)
    small = timed(old, "\n".join(changed), args.repeat)
    whole = timed(old, "\n".join(rewrite), max(3, args.repeat // 4))
    print(
        f"{args.lines} lines, 1 % changed: median {small[0]:.1f} ms, worst {small[1]:.1f} ms (target < 100 ms)"
    )
    print(
        f"{args.lines} lines, full rewrite: median {whole[0]:.1f} ms, worst {whole[1]:.1f} ms (target < 1000 ms)"
    )
    met = small[0] < 100 and whole[0] < 1000
    print(
        f"FIGURE config diff 1%: {small[0]:.1f} ms; rewrite: {whole[0]:.1f} ms; {'met' if met else 'missed'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
