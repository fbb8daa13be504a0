"""Worker jobs of monitoring."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from sustain.monitoring import alerts, heartbeats, probe_runs, rollups, rule_eval, scrape_runs
from sustain.monitoring.models import Probe, ScrapeJob


@db_periodic_task(crontab(minute="*"))
def settle_flapping() -> int:
    """Every minute: flapping alerts that have been stable long enough settle."""
    return alerts.stable_sweep()


@db_periodic_task(crontab(minute="*"))
def release_held_alerts() -> int:
    """Every minute: alerts whose maintenance window ended open their incident."""
    return alerts.release_sweep()


@db_periodic_task(crontab(minute="*"))
def heartbeat_deadlines() -> int:
    """Every minute: heartbeats past their deadline turn late, then down (raising an alert)."""
    return heartbeats.heartbeat_sweep()


@db_periodic_task(crontab(minute="*"))
def run_probes() -> bool:
    """Every minute: this worker process keeps a probe scheduler thread going (probe_runs);
    the thread claims due probes to the second, so no Huey worker thread is held by it."""
    if HUEY.immediate or not Probe.objects.filter(next_run_at__isnull=False).exists():
        return False
    return probe_runs.keep_running()


@db_task()
def wake_probes() -> bool:
    """Queued when a probe becomes due at once (made, resumed, run now): a worker without a
    scheduler thread starts one now rather than at the next minute."""
    if HUEY.immediate:
        return False
    return probe_runs.keep_running()


@db_periodic_task(crontab(minute="*"))
def run_scrapes() -> bool:
    """Every minute: this worker process keeps a scrape scheduler thread going (scrape_runs)."""
    if HUEY.immediate or not ScrapeJob.objects.filter(next_run_at__isnull=False).exists():
        return False
    return scrape_runs.keep_running()


@db_task()
def wake_scrapes() -> bool:
    """Queued when a scrape job becomes due at once (made, changed, resumed, scraped now)."""
    if HUEY.immediate:
        return False
    return scrape_runs.keep_running()


@db_periodic_task(crontab(minute="41", hour="*"))
def purge_probe_results() -> int:
    """Hourly: probe results older than SUSTAIN_PROBE_RESULT_DAYS go."""
    return probe_runs.purge()


@db_periodic_task(crontab(minute="*"))
def roll_up_metrics() -> dict[str, int]:
    """Every minute: complete minutes and hours of metric series rolled up, late minutes
    rolled again, old samples and rollups deleted (one worker at a time: a leased cursor)."""
    return rollups.sweep()


@db_periodic_task(crontab(minute="*"))
def evaluate_rules() -> int:
    """Every minute: the due threshold rules are evaluated (one set-based cycle)."""
    return rule_eval.run_cycle()
