"""Figure: time to generate N tickets (with comments and events) with `sustain demo --tickets N`.

SQLite, in a new data directory (removed first when it exists):

    .venv/bin/python bench/generate.py --tickets 1000000 --data-dir /tmp/bench-sqlite

PostgreSQL, into an empty database you created (`createdb bench`); never the `test` one:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/generate.py

Migrates, then times the command; the data set stays for the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import SUSTAIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--data-dir", default=os.environ.get("SUSTAIN_DATA_DIR", "/tmp/bench"))
    args = parser.parse_args()
    env = dict(os.environ, SUSTAIN_DATA_DIR=args.data_dir)
    database = os.environ.get("DATABASE_URL", "")
    if database.rstrip("/").endswith("/test"):
        sys.exit("The `test` database belongs to the test runs; create another one.")
    data_dir = Path(args.data_dir)
    if not database:
        if data_dir.resolve() == (Path.cwd() / "var").resolve():
            sys.exit("Use a data directory under /tmp, not ./var.")
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([SUSTAIN, "migrate", "-v0"], env=env, check=True)
    started = time.monotonic()
    subprocess.run([SUSTAIN, "demo", "--tickets", str(args.tickets)], env=env, check=True)
    seconds = time.monotonic() - started
    where = re.sub(r"//[^@/]*@", "//", database) or f"SQLite in {data_dir}"
    print(
        f"generated {args.tickets} tickets (2 comments, 2 events, 2 SLA clocks each) into {where}"
    )
    print(
        f"FIGURE generation: {args.tickets} tickets in {seconds:.0f} s "
        f"({seconds / 60:.1f} min, {args.tickets / seconds:.0f} tickets/s)"
    )


if __name__ == "__main__":
    main()
