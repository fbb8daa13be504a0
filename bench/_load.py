"""Load shapes shared by the creation benchmarks: closed loop, open loop, and our own server.

Closed loop: N client threads, each with one connection, send the next request as soon as the
answer to the last one is in. Open loop: requests are due at fixed times (an offered rate), a
pool of threads sends each at its time, and a request's latency counts from when it was due,
so a slow server is charged for the queue it builds. `Server` starts `sustain run` (gunicorn
and the worker) on a fresh data directory under /tmp (a copy of SUSTAIN_BENCH_TEMPLATE, a
stopped earlier run's data dir with the demo world, when set: loading the demo takes minutes
on a loaded machine) and stops it again. Only the standard
library, only 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT, SUSTAIN, Client

PYTHON = str(ROOT / ".venv" / "bin" / "python")
WORLD = str(Path(__file__).resolve().parent / "_create_world.py")
Body = Callable[[int, int], bytes]  # (client number, request number) -> request body
# Migrating and loading the demo world takes ~50 s on a quiet machine, minutes on a shared one.
START_SECONDS = 600


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)
    first_error: str = ""
    seconds: float = 0.0
    answered: int = 0  # successful answers sent in the window, late ones too (CPU per request)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def failed(self) -> int:
        return sum(self.failures.values())

    def add(self, status: int, answer: bytes, seconds: float, expect: int) -> None:
        if status == expect:
            self.latencies.append(seconds)
            return
        self.failures[status] = self.failures.get(status, 0) + 1
        if not self.first_error:
            self.first_error = f"HTTP {status}: {answer[:300].decode(errors='replace')}"


def closed_loop(
    url: str,
    path: str | Callable[[int, int], str],
    headers: dict[str, str],
    body: Body,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    expect: int = 201,
    at_start: Callable[[], None] | None = None,
    method: str = "POST",
) -> Outcome:
    """`clients` threads posting back to back; only answers inside the window count. With a
    `warmup`, `at_start` is called when the measured window opens (the server's CPU reading).
    `path` may be a function of (client number, request number), as `body` is; a `method`
    other than POST sends no body."""
    outcome, lock = Outcome(seconds=seconds), threading.Lock()
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    if at_start is not None:
        timer = threading.Timer(max(0.0, measure_from - time.monotonic()), at_start)
        timer.start()

    def loop(number: int) -> None:
        client, i = Client(url, headers), 0
        while (now := time.monotonic()) < stop_at:
            i += 1
            try:
                where = path(number, i) if callable(path) else path
                sent = body(number, i) if method == "POST" else None
                status, answer, took = client.request(method, where, sent)
            except OSError as exc:
                status, answer, took = 0, repr(exc).encode(), time.monotonic() - now
            if now < measure_from:
                continue  # warm-up
            with lock:
                outcome.answered += status == expect
                if now + took <= stop_at:  # not finished after the window closed
                    outcome.add(status, answer, took, expect)

    _run_threads(loop, clients)
    return outcome


def open_loop(
    url: str,
    path: str,
    headers: dict[str, str],
    body: Body,
    *,
    rate: float,
    seconds: float,
    warmup: float = 0,
    senders: int = 64,
    expect: int = 201,
) -> Outcome:
    """`rate` requests a second for `seconds`, each due at start + i / rate; latency is from
    the due time to the answer (a request sent late because every sender was busy counts the
    wait). The first `warmup` seconds run at the same rate and are not counted. The senders are many more than the server's workers, so they are not the limit."""
    counted_from = int(rate * warmup)  # the first `warmup` seconds' requests are not counted
    total = counted_from + int(rate * seconds)
    outcome, lock = Outcome(seconds=seconds), threading.Lock()
    counter = iter(range(total))
    start = time.monotonic() + 0.5

    def loop(number: int) -> None:
        client = Client(url, headers)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                status, answer, _ = client.request("POST", path, body(number, i))
            except OSError as exc:
                status, answer = 0, repr(exc).encode()
            finished = time.monotonic()
            with lock:
                outcome.answered += status == expect  # warm-up included (the CPU reading is)
                if i < counted_from:
                    continue
                outcome.add(status, answer, finished - due, expect)

    _run_threads(loop, senders)
    return outcome


def _run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and all its descendants: the
    server's cost, whatever else the machine runs meanwhile."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_ms(used_seconds: float, outcome: Outcome) -> float:
    """The server's CPU milliseconds per successful answer."""
    return used_seconds * 1000 / max(1, outcome.answered)


class Server:
    """`sustain run --demo` (or without the demo world: `demo=False`) on a fresh data
    directory (and DATABASE_URL when set); stopped by its process group on exit. `world()`
    runs a set-up script against its database."""

    def __init__(
        self, data_dir: str | None = None, *, demo: bool = True, template: str | None = None
    ) -> None:
        self.demo = demo
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sustain-bench-create-", dir="/tmp")
        template = template or os.environ.get("SUSTAIN_BENCH_TEMPLATE")
        if template:  # a data dir with the demo world loaded: start in seconds, not minutes
            skip = shutil.ignore_patterns("metrics", "sent-mail", "server.log", "*-wal", "*-shm")
            shutil.copytree(template, self.data_dir, dirs_exist_ok=True, ignore=skip)
        self.env = {**os.environ, "SUSTAIN_DATA_DIR": self.data_dir}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def cpu(self) -> float:
        """CPU seconds used so far by gunicorn, its workers and the worker."""
        return tree_cpu(self.process.pid) if self.process else 0.0

    def cpu_parts(self) -> dict[str, float]:
        """The same, apart: "web" (gunicorn and its workers), "worker" (the Huey worker, with
        the demo world's periodic jobs), "run" (`sustain run` itself)."""
        if self.process is None:
            return {}
        parts = {"web": 0.0, "worker": 0.0, "run": tree_cpu(self.process.pid)}
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as found:
                children = [int(c) for c in found.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            return parts
        for child in children:
            try:
                with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                    words = cmdline.read().split(b"\0")
            except FileNotFoundError:
                continue
            used = tree_cpu(child)
            parts["run"] -= used
            parts["web" if b"gunicorn" in words else "worker"] += used
        return parts

    def __enter__(self) -> Server:
        log = open(Path(self.data_dir) / "server.log", "ab")
        self.process = subprocess.Popen(
            [SUSTAIN, "run", *(["--demo"] if self.demo else []), "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=log,
            process_group=0,  # its own group to stop, but the same session (scheduling)
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"sustain run exited; see {self.data_dir}/server.log")
            try:
                if Client(self.url).get("/login/")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        sys.exit(f"sustain run did not answer within {START_SECONDS} s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def world(self, command: str, *args: str, script: str = WORLD) -> dict:
        """Run `script` (bench/_create_world.py) against this server's database; its JSON
        answer."""
        out = subprocess.run(
            [PYTHON, script, command, *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
