"""Figure: opening a ticket, Sustain against django-helpdesk 2.6.1, in one run, same client.

    .venv/bin/python bench/create_vs_peer.py [--clients 8] [--seconds 15] [--peer DIR]

The peer is started by its own harness (shared/peers/django-helpdesk: setup.sh makes its
virtual environment in /tmp/peer-helpdesk, gen.py a fresh SQLite database, bench.py's
start-up runs gunicorn with 2 sync workers and logs in with a session and its CSRF token); it
answers `POST /api/tickets/`. Then Sustain: `sustain run` (gunicorn and the worker) on a fresh
data directory under /tmp (and DATABASE_URL when set), a token, the demo organization and its
requester, who is notified of every ticket. One server runs at a time; both get the same client
threads (bench/_load.py, keep-alive where the server keeps connections open) for the same
seconds after the same warm-up. Afterwards Sustain's outbox must drain within 10 s with every
ticket's requester mailed and its clocks started. Beside each rate it prints the server's CPU
time per ticket (its processes' user + system time over the measured window, divided by the
tickets answered; ours includes the worker rendering and sending the mails): on a shared
machine the rates move with the load, the CPU per ticket much less. Exits 1 below 2x the peer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from _common import ROOT, summary
from _load import Outcome, Server, closed_loop, cpu_ms, tree_cpu
from create_api import body_maker, drained_ok

TARGET_RATIO, GOAL_RATIO = 2.0, 3.0
# shared/ lies beside the checkout (../shared), or two levels up from a worktree in wt/.
PEER_DIR = next(
    (
        base / "shared" / "peers" / "django-helpdesk"
        for base in (ROOT.parent, ROOT.parent.parent)
        if (base / "shared" / "peers" / "django-helpdesk").is_dir()
    ),
    ROOT.parent / "shared" / "peers" / "django-helpdesk",
)
PEER_PYTHON = "/tmp/peer-helpdesk/venv/bin/python"


def peer_harness(directory: Path) -> ModuleType:
    """The peer's bench.py as a module: its gunicorn start-up, login and stop."""
    spec = importlib.util.spec_from_file_location("peer_bench", directory / "bench.py")
    if spec is None or spec.loader is None:
        sys.exit(f"No peer harness in {directory}.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_peer(directory: Path, args: argparse.Namespace) -> tuple[Outcome, float]:
    subprocess.run(["bash", str(directory / "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [PEER_PYTHON, str(directory / "gen.py"), "--fresh", str(args.peer_tickets)],
        check=True,
        cwd=directory,
        stdout=subprocess.DEVNULL,
    )
    harness = peer_harness(directory)
    options = argparse.Namespace(
        gunicorn="/tmp/peer-helpdesk/venv/bin/gunicorn",
        server_log="/tmp/peer-helpdesk/gunicorn.log",
        workers=2,
        worker_class="sync",
        server_threads=4,
        server_timeout=300,
    )
    process, url = harness.start_gunicorn(options)
    try:
        session = harness.Client(url)
        profile = harness.PROFILES["django-helpdesk"]
        harness.login_session(session, profile, "admin@example.com", "peer-bench-Pa55")
        headers = {
            **session.headers,
            "Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items()),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

        def body(number: int, i: int) -> bytes:
            return json.dumps(
                {
                    "queue": 1,
                    "title": f"Bench: checkout returns 502 (client {number}, #{i})",
                    "description": "Created by bench/create_vs_peer.py.\n\nSteps: open the page.",
                    "submitter_email": "carol@acme.example",
                    "priority": 1 + i % 5,
                }
            ).encode()

        before = [0.0]
        outcome = closed_loop(
            url,
            profile["create_path"],
            headers,
            body,
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            at_start=lambda: before.__setitem__(0, tree_cpu(process.pid)),
        )
        return outcome, cpu_ms(tree_cpu(process.pid) - before[0], outcome)
    finally:
        harness.stop_server(process)


def run_ours(args: argparse.Namespace) -> tuple[Outcome, float, bool]:
    with Server() as server:
        world = server.world("setup")
        before, parts = [0.0], [{}]
        headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
        outcome = closed_loop(
            server.url,
            "/api/v1/tickets",
            headers,
            body_maker("acme", "carol@acme.example"),
            clients=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            at_start=lambda: (
                before.__setitem__(0, server.cpu()),
                parts.__setitem__(0, server.cpu_parts()),
            ),
        )
        drained = drained_ok(server.world("drain", str(world["since"])))
        after = server.cpu_parts()
        used = server.cpu() - before[0]  # the worker's rendering and sending included
        print(
            "  sustain's CPU per ticket apart: "
            + ", ".join(
                f"{name} {cpu_ms(after[name] - parts[0].get(name, 0.0), outcome):.1f} ms"
                for name in ("web", "worker")
            )
        )
    return outcome, cpu_ms(used, outcome), drained


def show(name: str, outcome: Outcome, cpu: float) -> None:
    print(f"  {name:<16} {outcome.rate:6.1f}/s  created {len(outcome.latencies)}", end="")
    print(f"  server CPU {cpu:.1f} ms per ticket", end="")
    print(f"  failed {outcome.failed()} {outcome.failures or ''}")
    if outcome.latencies:
        print(f"  {'':<16} {summary(outcome.latencies)}")
    if outcome.first_error:
        print(f"  {'':<16} first failure: {outcome.first_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--peer", type=Path, default=PEER_DIR, help="the peer's harness")
    parser.add_argument("--peer-tickets", type=int, default=1000, help="peer database size")
    args = parser.parse_args()
    database = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    peer, peer_cpu = run_peer(args.peer, args)
    ours, our_cpu, drained = run_ours(args)
    print(f"ticket creation, {args.clients} client threads, {args.seconds:.0f} s each")
    show("django-helpdesk", peer, peer_cpu)
    show(f"sustain {database}", ours, our_cpu)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    ratio = ours.rate / peer.rate if peer.rate else float("inf")
    ok = ratio >= TARGET_RATIO and drained and not ours.failed() and not peer.failed()
    print(
        f"FIGURE ticket creation vs django-helpdesk ({database}, {args.clients} clients): "
        f"{ours.rate:.0f}/s vs {peer.rate:.0f}/s = {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x, "
        f"goal {GOAL_RATIO:.0f}x: {'met' if ok else 'MISSED'})"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
