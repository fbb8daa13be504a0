"""Real peers for integration tests: Debian's Prometheus and Alertmanager, and Sustain itself
under gunicorn (`sustain run`), each a process of its own on a free 127.0.0.1 port with its
files in a temporary folder, always stopped (its whole process group) when the test ends.

The binaries come from Debian's `prometheus` and `prometheus-alertmanager` packages (`.ci/run`
installs them); `missing()` names those absent so a test can skip loudly on a machine without.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
T = TypeVar("T")


def missing() -> list[str]:
    return [name for name in (PROMETHEUS, ALERTMANAGER) if shutil.which(name) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str) -> Any:
    status, body = get(url)
    assert status == 200, f"GET {url} answered {status}: {body[:300]!r}"
    return json.loads(body)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.2) -> T:
    """`probe()`'s first true answer within `timeout` seconds; fails naming `what` otherwise.
    A probe that raises OSError (a peer not listening yet) counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except OSError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {timeout:.0f} s for {what}.")
        time.sleep(every)


class Peer:
    """One process with its log in `folder`; `stop()` ends its process group."""

    def __init__(self, name: str, argv: list[str], folder: Path, env: dict | None = None) -> None:
        self.name, self.folder = name, folder
        self.log_path = folder / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=folder,
                process_group=0,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self, last: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-last:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def wait_ready(self, url: str, timeout: float = 60) -> None:
        def ready() -> bool:
            assert self.alive(), f"{self.name} exited:\n{self.log()}"
            return get(url, timeout=2)[0] == 200

        wait_for(f"{self.name} at {url}", ready, timeout)


def sustain(folder: Path, port: int, database: dict[str, Any]) -> Peer:
    """`sustain run` (gunicorn, 2 workers × 4 threads, no background worker) on `database`:
    the test's own, as a SQLite file path or PostgreSQL settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))}
    env |= {"DJANGO_SETTINGS_MODULE": "sustain.settings", "SUSTAIN_DATA_DIR": str(folder)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if database["ENGINE"].endswith("sqlite3"):
        assert Path(database["NAME"]) == folder / "sustain.sqlite3", database["NAME"]
    else:
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        )
    cli = str(Path(sys.executable).with_name("sustain"))
    argv = [cli, "run", "--no-worker", "--port", str(port), "--web-workers", "2"]
    return Peer("sustain", argv, folder, env)
