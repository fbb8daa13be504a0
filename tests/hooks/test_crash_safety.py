"""Killing the worker with SIGKILL in the middle of a batch of webhook deliveries loses nothing:
a restarted worker finishes the batch, every event arrives at least once, and a receiver that
dedupes on X-Sustain-Delivery acts on each exactly once.

The real thing: `sustain migrate`, then events written by the desk's actions in a separate
process, then `sustain worker` (the Huey consumer) as a subprocess on a temporary SQLite data
directory, delivering to a slow HTTP receiver on 127.0.0.1. The outbox lease is shortened
(SUSTAIN_OUTBOX_LEASE_SECONDS) so the delivery the killed worker held is taken again soon.
Waits are bounded polls; the whole test takes some seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hooks.receiver import Receiver

SECRET = "crash-safety-secret-0123456789"
EVENTS = 12
LEASE_SECONDS = 3
KILL_AFTER = 4  # requests received before the worker is killed (one of them still in flight)

SETUP = """
import sys
import django

django.setup()
from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, User
from sustain.desk import actions as desk
from sustain.hooks import actions as hooks

url, secret, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
root = User.objects.create_superuser("root@northwind.test", None, organization=provider)
acme = accounts.create_organization(root, name="Acme", slug="acme")
carol = accounts.create_user(root, email="carol@acme.test", name="Carol", organization=acme)
hooks.create_subscription(root, name="Receiver", url=url, secret=secret, events=["ticket.created"])
for n in range(count):
    desk.open_ticket(carol, title=f"Crash test {n}")
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="sustain.settings",
        SUSTAIN_DATA_DIR=str(data_dir),
        SUSTAIN_SECRET_KEY="crash-safety-test-key",
        SUSTAIN_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        SUSTAIN_WEBHOOK_TIMEOUT="2",
        SUSTAIN_WORKER_THREADS="2",
        SUSTAIN_OUTBOUND_ALLOW_NETWORKS="127.0.0.1/32",  # the receiver, allowed on purpose
    )
    return env


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout:g} s for {what}")
        time.sleep(0.02)


def _webhook_messages(data_dir: Path) -> list[tuple[str, dict]]:
    with sqlite3.connect(data_dir / "sustain.sqlite3", timeout=10) as db:
        rows = db.execute(
            "SELECT state, payload FROM core_outboxmessage WHERE kind = 'webhook'"
        ).fetchall()
    return [(state, json.loads(payload)) for state, payload in rows]


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sustain.cli", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_a_restart_finishes(tmp_path: Path) -> None:
    env, log = _env(tmp_path), tmp_path / "worker.log"
    run = {"env": env, "check": True, "timeout": 180, "capture_output": True}
    subprocess.run([sys.executable, "-m", "sustain.cli", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]

    with Receiver(secret=SECRET, delay=0.4) as receiver:
        subprocess.run([sys.executable, "-c", SETUP, receiver.url, SECRET, str(EVENTS)], **run)  # type: ignore[call-overload]
        queued = _webhook_messages(tmp_path)
        assert len(queued) == EVENTS and {s for s, _ in queued} == {"pending"}

        worker = _start_worker(env, log)
        try:
            _wait(lambda: len(receiver.received) >= KILL_AFTER, 60, "the first deliveries")
            os.kill(worker.pid, signal.SIGKILL)  # mid-batch: a request is still being answered
            worker.wait(10)
        finally:
            _stop(worker)
        at_kill = len(receiver.received)
        time.sleep(0.5)  # let the receiver finish the request the dead worker was waiting for
        states = [s for s, _ in _webhook_messages(tmp_path)]
        assert states.count("sent") < EVENTS, "the batch was finished before the kill"

        restarted = _start_worker(env, log)
        try:
            _wait(lambda: len(receiver.acted_on) >= EVENTS, 60, "every event after the restart")
            _wait(
                lambda: all(s == "sent" for s, _ in _webhook_messages(tmp_path)),
                30,
                "the outbox to record every delivery",
            )
        finally:
            _stop(restarted)

    messages = _webhook_messages(tmp_path)
    deliveries = {payload["delivery"] for _, payload in messages}
    # Every event arrived at least once, signed; the receiver acted on each exactly once.
    assert set(receiver.acted_on) == deliveries
    assert receiver.bad_signatures == 0
    acted_events = [r.json["id"] for r in receiver.acted_on.values()]
    assert len(acted_events) == len(set(acted_events)) == EVENTS
    duplicates = len(receiver.received) - EVENTS
    assert receiver.duplicates == duplicates
    # Only what the killed worker was waiting on can come twice.
    assert duplicates <= int(env["SUSTAIN_WORKER_THREADS"])
    print(
        f"\ncrash safety: {EVENTS} events, {at_kill} requests before SIGKILL, "
        f"{len(receiver.received)} requests in all, {duplicates} duplicate(s) deduplicated"
    )
