"""The probe scheduler: due probes claimed with a conditional UPDATE, run in a bounded thread
pool, their results recorded and their alerts raised or cleared.

Huey's periodic tasks are minute-grained, so probes are not one task each. `next_run_at` says
when a probe is due; `claim()` takes the due ones whose lease is free in one statement,
`UPDATE … SET lease = <this batch>, leased_until = now + LEASE WHERE id IN (<due>) AND
next_run_at <= now AND lease is free`, and reads back the rows that carry its batch's lease: a
row another worker leased first no longer matches, so several workers (threads, processes,
machines; SQLite or PostgreSQL) never run one probe twice. A worker that dies mid-run only
delays its probes until their lease ends.

`Scheduler.run()` is the loop: claim as many due probes as the pool has free threads
(SUSTAIN_PROBE_CONCURRENCY), record what finished, sleep until the next one is due (at most
POLL seconds, so new and run-now probes start at once). The worker runs it in a thread of its
own (`keep_running()`, from a periodic task each minute and from a task queued when a probe is
made, changed, resumed or run now: no Huey worker thread is held); `sustain
probes` runs it in the foreground for a process of its own. Tests call `run_due()`, one step.

Recording is the scheduler thread's alone (the pool threads only do network I/O): one short
transaction per result, the probe's row locked and still carrying the lease; a probe paused,
changed or deleted meanwhile drops the result.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Min, Q
from django.utils import timezone

from sustain.core.locking import locked_all
from sustain.monitoring import probe_checks, probes
from sustain.monitoring.models import Alert, Probe, ProbeResult

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=probes.TIMEOUT_MAX + 30)  # longer than any run
POLL = 0.5  # seconds between looks for due probes at most
KEEP_ALIVE = timedelta(seconds=90)  # a scheduler thread nobody renews stops after this
PURGE_BATCH = 5000
State = Probe.State
Started = tuple[datetime, probe_checks.Outcome]


def _lease_free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def claim(now: datetime, limit: int) -> tuple[str, list[Probe]]:
    """Lease up to `limit` due probes for this worker: (the batch's lease, the probes)."""
    if limit <= 0:
        return "", []
    due = list(
        Probe.objects.filter(_lease_free(now), next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return "", []
    lease = uuid.uuid4().hex
    Probe.objects.filter(_lease_free(now), pk__in=due, next_run_at__lte=now).update(
        lease=lease, leased_until=now + LEASE
    )
    return lease, list(Probe.objects.filter(lease=lease).order_by("next_run_at"))


def next_due(now: datetime) -> datetime | None:
    return Probe.objects.filter(_lease_free(now), next_run_at__isnull=False).aggregate(
        at=Min("next_run_at")
    )["at"]


def execute(probe: Probe, now: datetime | None = None) -> Started:
    """One run (in a pool thread): when it started, and what it found."""
    started = now or timezone.now()
    return started, probe_checks.run(probe)


def record(
    probe: Probe, lease: str, started: datetime, outcome: probe_checks.Outcome
) -> ProbeResult | None:
    """The result of a run of `probe` under `lease`: stored, the counters and state moved,
    alerts raised or cleared, the next run planned. None when the lease is gone."""
    with transaction.atomic():
        found = locked_all(Probe.objects.filter(pk=probe.pk, lease=lease).select_related("source"))
        if not found:
            return None
        probe = found[0]
        due = probe.next_run_at or started
        result = ProbeResult.objects.create(
            probe=probe,
            at=started,
            ok=outcome.ok,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error[: probe_checks.ERROR_MAX],
            cert_expires_at=outcome.cert_expires_at,
            lag_ms=max(0, round((started - due).total_seconds() * 1000)),
        )
        _count(probe, outcome, started)
        _tls(probe, outcome, started)
        interval = timedelta(seconds=probe.interval_seconds)
        following = due + interval
        probe.next_run_at = following if following > started else started + interval
        probe.lease, probe.leased_until = "", None
        probe.last_run_at, probe.last_ok = started, outcome.ok
        probe.last_status_code, probe.last_latency_ms = outcome.status_code, outcome.latency_ms
        probe.last_error = result.error
        if outcome.cert_expires_at is not None:
            probe.cert_expires_at = outcome.cert_expires_at
        probe.save()
    return result


def _count(probe: Probe, outcome: probe_checks.Outcome, now: datetime) -> None:
    """N failures in a row: down, with an alert; M successes in a row: up, alert cleared."""
    if outcome.ok:
        probe.consecutive_successes += 1
        probe.consecutive_failures = 0
        if probe.state == State.NEW:
            probe.state = State.UP
        elif probe.state == State.DOWN and probe.consecutive_successes >= probe.recover_after:
            probe.state = State.UP
            probes.signal_down(probe, Alert.State.RESOLVED, now, "answering again")
        return
    probe.consecutive_failures += 1
    probe.consecutive_successes = 0
    if probe.state != State.DOWN and probe.consecutive_failures >= probe.fail_after:
        probe.state = State.DOWN
        why = f"{probe.consecutive_failures} failures in a row, the last: {outcome.error}"
        probes.signal_down(probe, Alert.State.FIRING, now, why)


def _tls(probe: Probe, outcome: probe_checks.Outcome, now: datetime) -> None:
    """The certificate's own alert: firing within tls_expiry_days of its expiry, cleared when
    a renewed one is seen (or the warning is turned off)."""
    expires = outcome.cert_expires_at
    if expires is None and probe.tls_expiry_days:
        return  # nothing seen this time (a failed run, plain HTTP): no news
    soon = (
        expires is not None
        and probe.tls_expiry_days > 0
        and expires - now <= timedelta(days=probe.tls_expiry_days)
    )
    if soon and not probe.tls_alert_firing:
        probe.tls_alert_firing = True
        probes.signal_tls(probe, Alert.State.FIRING, now, expires)
    elif not soon and probe.tls_alert_firing:
        probe.tls_alert_firing = False
        probes.signal_tls(probe, Alert.State.RESOLVED, now, None)


def run_due(now: datetime | None = None, limit: int = 500) -> int:
    """One step, as a test drives it: the probes due at `now` claimed, run in the pool, and
    recorded (each run stamped `now`). Returns how many ran."""
    now = now or timezone.now()
    lease, claimed = claim(now, limit)
    if not claimed:
        return 0
    workers = max(1, min(len(claimed), settings.PROBE_CONCURRENCY))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
        runs = list(pool.map(lambda p: execute(p, now), claimed))
    for probe, (started, outcome) in zip(claimed, runs, strict=True):
        record(probe, lease, started, outcome)
    return len(claimed)


class Scheduler:
    """The loop: see the module's docstring."""

    # What the loop runs (scrape_runs.Scheduler runs scrape jobs with the same loop).
    thread_name = "probe"
    claim: Callable[..., tuple[str, list[Any]]] = staticmethod(claim)
    execute: Callable[..., tuple[datetime, Any]] = staticmethod(execute)
    record: Callable[..., Any] = staticmethod(record)
    next_due: Callable[[datetime], datetime | None] = staticmethod(next_due)

    def __init__(self, concurrency: int | None = None, *, own_connections: bool = False):
        # own_connections: the loop has its thread to itself (the worker's thread, `sustain
        # probes`), so it drops stale connections and closes its own when it ends; a caller's
        # connection (a test's transaction) is left alone.
        self.own_connections = own_connections
        self.concurrency = max(1, concurrency or self.default_concurrency())
        self.pool = concurrent.futures.ThreadPoolExecutor(
            self.concurrency, thread_name_prefix=self.thread_name
        )
        self.running: dict[concurrent.futures.Future[Any], tuple[Any, str]] = {}
        self.ran = 0

    def default_concurrency(self) -> int:
        return int(settings.PROBE_CONCURRENCY)

    def step(self) -> int:
        """Claim what is due for the free threads and start it; how many started."""
        lease, claimed = self.claim(timezone.now(), self.concurrency - len(self.running))
        for row in claimed:
            self.running[self.pool.submit(self.execute, row)] = (row, lease)
        return len(claimed)

    def collect(self, timeout: float) -> int:
        """Record the runs that end within `timeout` seconds; how many."""
        if not self.running:
            if timeout > 0:
                time.sleep(timeout)
            return 0
        done, _ = concurrent.futures.wait(
            self.running, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        for future in done:
            row, lease = self.running.pop(future)
            try:
                started, outcome = future.result()
                self.record(row, lease, started, outcome)
            except Exception:  # one bad record never stops the loop; the lease runs out
                log.exception("%s %s: recording its run failed", self.thread_name, row.pk)
        self.ran += len(done)
        return len(done)

    def wait_time(self) -> float:
        if len(self.running) >= self.concurrency:
            return POLL
        now = timezone.now()
        due = self.next_due(now)
        if due is None:
            return POLL
        return min(POLL, max(0.0, (due - now).total_seconds()))

    def run(self, keep_going: threading.Event | None = None, seconds: float | None = None) -> int:
        """Until `seconds` pass (or `keep_going` is cleared); the runs in flight are recorded
        before it returns. Returns how many probes ran."""
        end = None if seconds is None else time.monotonic() + seconds
        try:
            while (end is None or time.monotonic() < end) and (
                keep_going is None or keep_going.is_set()
            ):
                if self.own_connections:
                    close_old_connections()
                self.collect(0)
                if self.step() and len(self.running) < self.concurrency:
                    continue  # more may be due right now
                self.collect(self.wait_time())
            while self.running:
                self.collect(POLL)
        finally:
            self.pool.shutdown(wait=True)
            if self.own_connections:
                connections.close_all()  # this thread's connections
        return self.ran


# --- in the worker process --------------------------------------------------------------------
_lock = threading.Lock()
_until: float = 0.0
_thread: threading.Thread | None = None


def keep_running(for_: timedelta = KEEP_ALIVE) -> bool:
    """Make sure this process has a scheduler thread, and keep it going for `for_` more (the
    periodic task calls this every minute). True when a thread was started."""
    global _thread, _until
    with _lock:
        _until = max(_until, time.monotonic() + for_.total_seconds())
        if _thread is not None and _thread.is_alive():
            return False
        _thread = threading.Thread(target=_background, name="probe-scheduler", daemon=True)
        _thread.start()
        return True


def _background() -> None:
    alive = threading.Event()
    alive.set()

    def watch() -> None:  # clears `alive` once nobody has renewed the scheduler
        while time.monotonic() < _until:
            time.sleep(1)
        alive.clear()

    threading.Thread(target=watch, name="probe-scheduler-watch", daemon=True).start()
    try:
        Scheduler(own_connections=True).run(keep_going=alive)
    except Exception:
        log.exception("the probe scheduler stopped")


def purge(now: datetime | None = None) -> int:
    """Results older than SUSTAIN_PROBE_RESULT_DAYS go, in batches; how many."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.PROBE_RESULT_DAYS)
    removed = 0
    while True:
        ids = list(
            ProbeResult.objects.filter(at__lt=before).values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            return removed
        removed += ProbeResult.objects.filter(pk__in=ids).delete()[0]
