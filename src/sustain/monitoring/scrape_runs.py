"""The scrape scheduler: due scrape jobs claimed with a conditional UPDATE and a lease (the
way probes are: see probe_runs, whose loop this reuses), fetched and parsed in a bounded
thread pool, their samples ingested through the one door (series.ingest), the job's last run
and its alert recorded.

A run (`execute`, in a pool thread, no database): GET the job's URL through the outbound guard
with `Accept: text/plain;version=0.0.4`, within its timeout, reading at most
SUSTAIN_SCRAPE_MAX_BYTES; a 2xx answer is parsed (scrape_parse). Recording (`record`, the
scheduler's thread, one transaction, the job locked and still carrying the lease): the series
ingested (new ones past SUSTAIN_MAX_SERIES_PER_ORG left out, and said in the job's error), the
synthetic `up`, `scrape_duration_seconds` and `scrape_samples_scraped` series written as
Prometheus writes them (also for a failed scrape), the alert raised on a failure and resolved
by the next success, the next run planned.

The worker keeps a scheduler thread going (`keep_running()`, from a periodic task each minute
and a task queued when a job is made, resumed or scraped now); `sustain scrapes` runs it in the
foreground; tests call `run_due()`.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from sustain.core import outbound
from sustain.core.locking import locked_all
from sustain.monitoring import probe_checks, probe_runs, scrape_parse, scrapes
from sustain.monitoring.models import Alert, ScrapeJob, Series
from sustain.monitoring.series import Incoming, Ingested, ingest

log = logging.getLogger(__name__)

ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
LEASE = timedelta(seconds=scrapes.TIMEOUT_MAX + 120)  # the fetch, and ingesting what it read
ERROR_MAX = 500
KEEP_ALIVE = probe_runs.KEEP_ALIVE
Status = ScrapeJob.Status


@dataclass
class Outcome:
    ok: bool
    duration_ms: int
    parsed: scrape_parse.Parsed | None = None
    error: str = ""


def _lease_free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def claim(now: datetime, limit: int) -> tuple[str, list[ScrapeJob]]:
    """Lease up to `limit` due jobs for this worker: (the batch's lease, the jobs)."""
    if limit <= 0:
        return "", []
    due = list(
        ScrapeJob.objects.filter(_lease_free(now), next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return "", []
    lease = uuid.uuid4().hex
    ScrapeJob.objects.filter(_lease_free(now), pk__in=due, next_run_at__lte=now).update(
        lease=lease, leased_until=now + LEASE
    )
    rows = ScrapeJob.objects.filter(lease=lease).select_related("config_item")
    return lease, list(rows.order_by("next_run_at"))


def next_due(now: datetime) -> datetime | None:
    return ScrapeJob.objects.filter(_lease_free(now), next_run_at__isnull=False).aggregate(
        at=Min("next_run_at")
    )["at"]


def target(job: ScrapeJob) -> dict[str, str]:
    return scrape_parse.target_labels(job.name, job.url, job.labels or {})


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def fetch(job: ScrapeJob) -> tuple[str, str]:
    """The answer's text and content type; OutboundError or ValueError (our words) if none."""
    limit = int(settings.SCRAPE_MAX_BYTES)
    answer = outbound.request(
        "GET",
        job.url,
        headers={
            "Accept": ACCEPT,
            "User-Agent": "Sustain-Scraper/1",
            "X-Prometheus-Scrape-Timeout-Seconds": str(job.timeout_seconds),
        },
        timeout=float(job.timeout_seconds),
        max_bytes=limit,
        ssl_context=probe_checks.tls_context() if job.url.lower().startswith("https:") else None,
    )
    if not 200 <= answer.status < 300:
        raise ValueError(f"status {answer.status}, expected 2xx")
    if answer.truncated:
        if len(answer.body) >= limit:
            raise ValueError(f"the answer is larger than {limit} bytes (SUSTAIN_SCRAPE_MAX_BYTES)")
        raise ValueError("the answer was cut short")
    content_type = dict((k.lower(), v) for k, v in answer.headers).get("content-type", "")
    try:
        return answer.body.decode("utf-8"), content_type
    except UnicodeDecodeError:
        raise ValueError("the answer is not UTF-8 text") from None


def execute(job: ScrapeJob, now: datetime | None = None) -> tuple[datetime, Outcome]:
    """One scrape (in a pool thread): when it started, and what it found."""
    started = now or timezone.now()
    clock = time.monotonic()
    try:
        text, content_type = fetch(job)
        parsed = scrape_parse.convert(
            text,
            target=target(job),
            now_ms=_ms(started),
            content_type=content_type,
            config_item=job.config_item,
        )
    except (outbound.OutboundError, ValueError) as exc:  # ParseError is a ValueError
        return started, Outcome(False, _elapsed(clock), error=str(exc)[:ERROR_MAX])
    return started, Outcome(True, _elapsed(clock), parsed=parsed)


def _elapsed(clock: float) -> int:
    return max(0, round((time.monotonic() - clock) * 1000))


def synthetic(job: ScrapeJob, at: datetime, outcome: Outcome) -> list[Incoming]:
    """`up`, `scrape_duration_seconds`, `scrape_samples_scraped`, as Prometheus writes them."""
    labels, ms = target(job), _ms(at)
    samples = outcome.parsed.samples if outcome.parsed else 0
    values = {
        "up": 1.0 if outcome.ok else 0.0,
        "scrape_duration_seconds": outcome.duration_ms / 1000,
        "scrape_samples_scraped": float(samples),
    }
    return [
        Incoming(
            where=f"metric {name}",
            name=name,
            labels=labels,
            kind=Series.Kind.GAUGE,
            config_item=job.config_item,
            points=[(ms, value)],
        )
        for name, value in values.items()
    ]


def record(job: ScrapeJob, lease: str, started: datetime, outcome: Outcome) -> ScrapeJob | None:
    """The run of `job` under `lease` recorded; None when the lease is gone (the job paused,
    changed or deleted meanwhile)."""
    with transaction.atomic():
        found = locked_all(
            ScrapeJob.objects.filter(pk=job.pk, lease=lease).select_related("source", "config_item")
        )
        if not found:
            return None
        return apply(found[0], started, outcome)


def apply(job: ScrapeJob, started: datetime, outcome: Outcome) -> ScrapeJob:
    """What a run found, written (inside the caller's transaction): the series, the job's last
    run, its alert, its next run."""
    error, written = outcome.error, Ingested()
    if outcome.ok and outcome.parsed is not None:
        written = ingest(job, outcome.parsed.series, refuse=False)
        if written.message:
            error = written.message[:ERROR_MAX]
    ingest(job, synthetic(job, started, outcome), refuse=False)
    failed = bool(error)
    if failed and job.status != Status.FAILED:
        scrapes.signal(job, Alert.State.FIRING, started, error)
    elif not failed and job.status == Status.FAILED:
        scrapes.signal(job, Alert.State.RESOLVED, started, "scraped again")
    job.status = Status.FAILED if failed else Status.OK
    job.last_run_at, job.last_error = started, error
    job.last_duration_ms = outcome.duration_ms
    job.last_samples = outcome.parsed.samples if outcome.parsed else 0
    job.last_series = written.series
    interval = timedelta(seconds=job.interval_seconds)
    due = job.next_run_at or started
    if not job.paused:
        following = due + interval
        job.next_run_at = following if following > started else started + interval
    job.lease, job.leased_until = "", None
    job.save()
    return job


def run_due(now: datetime | None = None, limit: int = 100) -> int:
    """One step, as a test or `sustain scrapes --once` drives it: the jobs due at `now`
    claimed, scraped in the pool and recorded. Returns how many ran."""
    now = now or timezone.now()
    lease, claimed = claim(now, limit)
    if not claimed:
        return 0
    workers = max(1, min(len(claimed), int(settings.SCRAPE_CONCURRENCY)))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="scrape") as pool:
        runs = list(pool.map(lambda j: execute(j, now), claimed))
    for job, (started, outcome) in zip(claimed, runs, strict=True):
        record(job, lease, started, outcome)
    return len(claimed)


class Scheduler(probe_runs.Scheduler):
    """probe_runs' loop, over scrape jobs."""

    thread_name = "scrape"
    claim = staticmethod(claim)
    execute = staticmethod(execute)
    record = staticmethod(record)
    next_due = staticmethod(next_due)

    def default_concurrency(self) -> int:
        return int(settings.SCRAPE_CONCURRENCY)


# --- in the worker process --------------------------------------------------------------------
_lock = threading.Lock()
_until: float = 0.0
_thread: threading.Thread | None = None


def keep_running(for_: timedelta = KEEP_ALIVE) -> bool:
    """This process has a scrape scheduler thread for `for_` more (the periodic task renews it
    every minute). True when a thread was started."""
    global _thread, _until
    with _lock:
        _until = max(_until, time.monotonic() + for_.total_seconds())
        if _thread is not None and _thread.is_alive():
            return False
        _thread = threading.Thread(target=_background, name="scrape-scheduler", daemon=True)
        _thread.start()
        return True


def _background() -> None:
    alive = threading.Event()
    alive.set()

    def watch() -> None:  # clears `alive` once nobody has renewed the scheduler
        while time.monotonic() < _until:
            time.sleep(1)
        alive.clear()

    threading.Thread(target=watch, name="scrape-scheduler-watch", daemon=True).start()
    try:
        Scheduler(own_connections=True).run(keep_going=alive)
    except Exception:
        log.exception("the scrape scheduler stopped")
