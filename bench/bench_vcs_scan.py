"""Figure: seconds for `sustain vcs scan` of a repository of 10,000 commits, and a rescan.

Target: under 10 s on SQLite (2 cores). A bare git repository with 10,000 commits on `main`
is built once with `git fast-import` and kept under /tmp (about 10% of the messages fix a bug,
`Fixes BUG-n`; 2% refer to one; a few name keys that do not exist). A fresh data directory
(SQLite) gets the product and the 1,000 bugs those messages name; then `sustain vcs scan PATH`
runs as an administrator would run it (a new process, Django's start-up included): it creates
the repository, stores every commit, marks 1,000 bugs fixed and links the referred ones.
The rescan reads the same 10,000 commits again, all known: nothing changes.

    .venv/bin/python bench/bench_vcs_scan.py [--commits 10000] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUSTAIN = os.environ.get("SUSTAIN_CLI", str(ROOT / ".venv" / "bin" / "sustain"))
TARGET = 10.0
BUGS = 1000
FIRST_KEY = 1001  # the first key a fresh database gives (counters start after 1000)

SETUP = f"""
from django.utils import timezone
from sustain.bugs.models import Bug
from sustain.cmdb.models import Product
from sustain.core.models import Counter
product = Product.objects.create(name="Bench ledger", slug="bench-ledger")
now = timezone.now()
Bug.objects.bulk_create([
    Bug(key=f"BUG-{{n}}", title=f"Bench bug {{n}}", product=product, created_at=now,
        updated_at=now)
    for n in range({FIRST_KEY}, {FIRST_KEY + BUGS})
])
Counter.objects.update_or_create(name="bug", defaults={{"value": {FIRST_KEY + BUGS - 1}}})
"""

CHECK = """
from sustain.bugs.models import Bug, BugCommit, Commit
print(Commit.objects.count(), Bug.objects.filter(status="fixed").count(),
      BugCommit.objects.filter(kind="refs").count())
"""


def message(i: int) -> str:
    subject = f"Change {i}: adjust module {i % 97}"
    if i % 10 == 3:
        return f"{subject}\n\nFixes BUG-{FIRST_KEY + (i // 10) % BUGS}\n"
    if i % 50 == 7:
        return f"{subject}\n\nRefs BUG-{FIRST_KEY + (i * 7) % BUGS}\n"
    if i % 1000 == 9:
        return f"{subject}\n\nFixes BUG-99{i}\n"  # no such bug
    return f"{subject}\n\nSome explanation of change {i}, as commit bodies have.\n"


def build(path: Path, commits: int) -> None:
    """A bare repository of `commits` commits on main, from one fast-import stream."""
    if path.exists():
        shutil.rmtree(path)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    chunks: list[bytes] = []
    start = 1_700_000_000
    for i in range(commits):
        msg = message(i).encode()
        content = f"line {i}\n".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"mark :{i + 1}\n".encode()
            + f"author Rita Coder <rita@bench.test> {start + i * 60} +0000\n".encode()
            + f"committer Rita Coder <rita@bench.test> {start + i * 60} +0000\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg
            + (f"from :{i}\n".encode() if i else b"")
            + f"M 644 inline src/module_{i % 97}.txt\n".encode()
            + f"data {len(content)}\n".encode()
            + content
            + b"\n"
        )
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(chunks), check=True
    )


def sustain(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([SUSTAIN, *args], env=env, capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"sustain {' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()


def timed_scan(env: dict[str, str], repo: Path) -> tuple[float, str]:
    """Wall seconds (the figure) and the output; the CPU seconds of the process (git's
    included) are printed too: on a shared machine they show what the wall time would be."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = sustain(env, "vcs", "scan", str(repo))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"scan: {seconds:.1f} s wall, {cpu:.1f} s CPU, load average {os.getloadavg()[0]:.1f}")
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--rebuild", action="store_true", help="build the git repository again")
    args = parser.parse_args()

    repo = Path(tempfile.gettempdir()) / f"sustain-bench-vcs-{args.commits}.git"
    count = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "main"], capture_output=True, text=True
    )
    if args.rebuild or count.returncode != 0 or count.stdout.strip() != str(args.commits):
        started = time.perf_counter()
        build(repo, args.commits)
        print(f"built {repo} in {time.perf_counter() - started:.1f} s")
    else:
        print(f"using {repo}")

    data = Path(tempfile.mkdtemp(prefix="sustain-bench-vcs-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"SUSTAIN_DATA_DIR": str(data), "SUSTAIN_SECRET_KEY": "bench-" + "x" * 40}
    print(f"data directory {data} (SQLite)")
    sustain(env, "migrate", "--noinput")
    sustain(env, "shell", "-c", SETUP)

    seconds, out = timed_scan(env, repo)
    print(out.strip())
    commits, fixed, refs = map(int, sustain(env, "shell", "-c", CHECK).split()[-3:])
    print(f"stored {commits} commits, {fixed} bugs fixed, {refs} references")
    if commits != args.commits or fixed != min(BUGS, args.commits // 10):
        sys.exit("the scan's results do not add up")
    again, out = timed_scan(env, repo)
    if not re.search(r" 0 new, 0 bugs fixed, 0 linked", out):
        sys.exit(f"the rescan changed something: {out}")

    print(f"FIGURE vcs rescan {args.commits} commits (all known): {again:.1f} s")
    print(f"FIGURE vcs scan {args.commits} commits: {seconds:.1f} s (target < {TARGET:.0f} s)")
    shutil.rmtree(data, ignore_errors=True)
    if seconds >= TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
