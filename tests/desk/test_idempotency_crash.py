"""A server killed with SIGKILL in the middle of a POST with an Idempotency-Key: the retry with
the same key gets either the first answer (the process died after the commit) or a fresh,
single creation (it died before) — never 409 for ever, never two tickets.

The real thing: `sustain migrate` on a temporary SQLite data directory, then gunicorn serving
Sustain (tests/desk/crash_app.py: the first ticket's request stalls, before or after its
commit, and names its worker), SIGKILL to that worker, and the retry over HTTP to the worker
gunicorn starts in its place.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BODY = {"title": "Checkout returns 502", "organization": "acme", "impact": 1, "urgency": 1}

SETUP = """
import django

django.setup()
from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, User

provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
root = User.objects.create_superuser("root@northwind.test", None, organization=provider)
accounts.create_organization(root, name="Acme", slug="acme")
print(accounts.create_token(None, root)[1])
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout:g} s for {what}")
        time.sleep(0.05)


def _post(url: str, token: str, key: str, timeout: float = 30) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(BODY).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def _tickets(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "sustain.sqlite3", timeout=10) as db:
        return [key for (key,) in db.execute("SELECT key FROM desk_ticket ORDER BY id")]


def _records(data_dir: Path) -> list[tuple]:
    with sqlite3.connect(data_dir / "sustain.sqlite3", timeout=10) as db:
        return db.execute("SELECT key, status_code FROM core_idempotencyrecord").fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["write", "commit"])
def test_a_retry_after_sigkill_gets_one_ticket_and_an_answer(tmp_path: Path, stage: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="sustain.settings",
        SUSTAIN_DATA_DIR=str(tmp_path),
        SUSTAIN_SECRET_KEY="idempotency-crash-test-key",
        PYTHONPATH=str(ROOT),
        CRASH_STAGE=stage,
        CRASH_MARK=str(tmp_path / "stalled-worker"),
    )
    run = {"env": env, "check": True, "timeout": 180, "capture_output": True, "text": True}
    subprocess.run([sys.executable, "-m", "sustain.cli", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]
    token = subprocess.run([sys.executable, "-c", SETUP], **run).stdout.strip()  # type: ignore[call-overload]

    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("ab")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "tests.desk.crash_app:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120"),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/v1/tickets"
    try:
        first: dict = {}

        def send_first() -> None:
            try:
                first["answer"] = _post(url, token, "crash-1", timeout=60)
            except Exception as exc:  # the connection dies with the worker
                first["error"] = exc

        _wait(lambda: _connects(port), 30, "gunicorn to listen")
        sender = threading.Thread(target=send_first)
        sender.start()
        mark = Path(env["CRASH_MARK"])
        _wait(lambda: mark.exists() and mark.read_text() != "", 30, "the request to stall")
        os.kill(int(mark.read_text()), signal.SIGKILL)
        sender.join(60)
        assert "answer" not in first, f"the first request was answered: {first}"

        # Gunicorn starts a new worker; the client retries with the same key.
        status, headers, body = _retry(url, token, "crash-1")
        assert status == 201, (status, body)
        assert _tickets(tmp_path) == [body["key"]]
        if stage == "commit":
            assert headers.get("Idempotent-Replayed") == "true"  # the first answer, committed
        else:
            assert "Idempotent-Replayed" not in headers  # nothing was left: a fresh creation
        again = _post(url, token, "crash-1")
        assert (again[0], again[2]["key"], again[1].get("Idempotent-Replayed")) == (
            201,
            body["key"],
            "true",
        )
        assert _records(tmp_path) == [("crash-1", 201)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _retry(url: str, token: str, key: str) -> tuple[int, dict, dict]:
    """The client's retry: again until a worker answers (the new one may still be starting)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return _post(url, token, key)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
