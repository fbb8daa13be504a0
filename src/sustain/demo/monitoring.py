"""The demo's monitoring: Acme's Prometheus sends through an Alertmanager source with its own
machine token, as a real one would (`actions.receive_alertmanager`, the webhook's door): a
disk alert two days ago that fired and cleared (its incident resolved by the resolution), an
error-rate alert firing now on the production environment (its incident open), a weekly
maintenance window on the staging environment, and an HTTP probe of Acme's shop with six hours
of results (seeded, then paused: the demo never probes the network), and a scrape job of the
shop's /metrics with an hour of scrapes (recorded the same way, then paused). And Acme's nightly
database backup pings a heartbeat: two weeks of runs, one night late."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sustain.accounts.models import Organization
from sustain.demo.history import Timeline
from sustain.desk import actions as desk
from sustain.monitoring import actions, heartbeats
from sustain.monitoring.models import Alert, Ping, Probe, ProbeResult, ScrapeJob

ERRORS = "a7f3c2e1d0b94856"  # the firing alert's fingerprint
ZERO = "0001-01-01T00:00:00Z"
BERLIN = ZoneInfo("Europe/Berlin")
PROMETHEUS = "http://prometheus.acme.example:9090"


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _delivery(
    status: str, labels: dict[str, str], annotations: dict[str, str], fired: datetime, **more: Any
) -> bytes:
    """One Alertmanager webhook body (version 4) with one alert, as Alertmanager writes it."""
    ended = more.get("ended")
    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _instant(fired),
        "endsAt": _instant(ended) if ended else ZERO,
        "generatorURL": f"{PROMETHEUS}/graph?g0.expr={more.get('expr', '')}",
        "fingerprint": more["fingerprint"],
    }
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}/{severity=~"warning|critical"}:{alertname="'
            + labels["alertname"]
            + '"}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "sustain",
            "groupLabels": {"alertname": labels["alertname"]},
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": "http://alertmanager.acme.example:9093",
            "alerts": [alert],
        }
    ).encode()


def alerts(
    timeline: Timeline, people: dict[str, Any], items: dict[str, Any], teams: dict[str, Any]
) -> None:
    """Plan the monitoring steps on the demo's timeline."""
    now = timeline.now
    acme = Organization.objects.get(slug="acme")
    made: dict[str, Any] = {}

    set_up_at = now - timedelta(days=3)
    berlin = set_up_at.astimezone(BERLIN)
    first_sunday = (berlin + timedelta(days=6 - berlin.weekday() or 7)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )  # the next Sunday, 02:00 in Berlin

    def set_up() -> None:
        source = actions.create_source(
            people["mia"], acme, name="Acme Prometheus", config_item=items["acme-production"]
        )
        made["token"], _ = actions.create_machine_token(
            people["mia"], acme, name="Alertmanager (acme-prom-01)", source=source
        )
        actions.create_window(
            people["bob"],
            acme,
            name="Weekly staging refresh",
            starts_at=first_sunday,
            ends_at=first_sunday + timedelta(hours=2),
            rrule="FREQ=WEEKLY;BYDAY=SU",
            zone="Europe/Berlin",
            reason="Staging is rebuilt from last night's production backup.",
            config_items=[items["acme-staging"]],
        )

    disk = {
        "alertname": "DiskSpaceLow",
        "severity": "warning",
        "instance": "acme-db:9100",
        "job": "node",
        "mountpoint": "/var/lib/postgresql",
        "config_item": "acme-db",
    }
    disk_notes = {
        "summary": "Disk /var/lib/postgresql on acme-db is 91 % full",
        "description": "Less than 10 % free for 15 minutes; the database stops writing at 100 %.",
        "runbook_url": "https://runbooks.acme.example/disk-space",
    }
    disk_fired = now - timedelta(days=2, hours=3)
    disk_cleared = disk_fired + timedelta(minutes=47)
    errors = {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "job": "ledger-api",
        "env": "production",
        "service": "checkout",
        "config_item": "acme-production",
    }
    error_notes = {
        "summary": "5xx responses above 5 % on the checkout API",
        "description": "7.8 % of requests to /api/checkout failed over the last 5 minutes.",
        "runbook_url": "https://runbooks.acme.example/high-error-rate",
    }
    errors_fired = now - timedelta(minutes=35)

    def send(body: bytes) -> None:
        actions.receive_alertmanager(made["token"], body)

    timeline.add(set_up_at, set_up)
    timeline.add(
        disk_fired + timedelta(minutes=1),
        lambda: send(
            _delivery("firing", disk, disk_notes, disk_fired, fingerprint="5d1c0a7e9b3f2468")
        ),
    )
    timeline.add(
        disk_cleared + timedelta(minutes=1),
        lambda: send(
            _delivery(
                "resolved",
                disk,
                disk_notes,
                disk_fired,
                ended=disk_cleared,
                fingerprint="5d1c0a7e9b3f2468",
            )
        ),
    )
    expr = "sum(rate(http_requests_total{job=%22ledger-api%22,code=~%225..%22}[5m]))"
    for minutes in (1, 6, 11):  # Alertmanager's repeats: counted, no noise on the timeline
        timeline.add(
            errors_fired + timedelta(minutes=minutes),
            lambda: send(
                _delivery(
                    "firing",
                    errors,
                    error_notes,
                    errors_fired,
                    fingerprint=ERRORS,
                    expr=expr,
                )
            ),
        )

    def answer() -> None:
        """Bob, on the platform team, takes the incident the alert opened and answers."""
        ticket = Alert.objects.get(source__organization=acme, fingerprint=ERRORS).ticket
        assert ticket is not None
        desk.assign(people["bob"], ticket, team=teams["platform"], assignee=people["bob"])
        desk.add_comment(
            people["bob"],
            ticket,
            "We see the 5xx spike on checkout since the 2.4.1 rollout; rolling back the API "
            "pods now.",
        )

    timeline.add(errors_fired + timedelta(minutes=7), answer)
    _probe(timeline, people, items, acme)
    _scrape_job(timeline, people, items, acme)


TIMED_OUT = (95, 331)  # the minutes of the probe's two lone time-outs (one on its page)


def _probe(timeline: Timeline, people: dict[str, Any], items: dict[str, Any], acme) -> None:
    """Acme's shop probed every minute for six hours, two lone time-outs among the runs (one
    failure is no outage: it takes two in a row); then paused, so the demo stays offline."""
    now = timeline.now
    since = now - timedelta(hours=6)
    made: dict[str, Probe] = {}

    def create() -> None:
        made["probe"] = actions.create_probe(
            people["mia"],
            acme,
            name="Acme shop health",
            url="https://shop.acme.example/health",
            keyword="ok",
            config_item=items["acme-production"],
        )

    def seed() -> None:
        probe = made["probe"]
        expires = now + timedelta(days=47)
        rows = []
        for minute in range(6 * 60):
            timed_out = minute in TIMED_OUT
            rows.append(
                ProbeResult(
                    probe=probe,
                    at=since + timedelta(minutes=minute, seconds=1),
                    ok=not timed_out,
                    status_code=None if timed_out else 200,
                    latency_ms=10_000 if timed_out else 80 + (minute * 37) % 90,
                    error="timed out" if timed_out else "",
                    cert_expires_at=None if timed_out else expires,
                    lag_ms=(minute * 13) % 400,
                )
            )
        ProbeResult.objects.bulk_create(rows)
        last = rows[-1]
        Probe.objects.filter(pk=probe.pk).update(
            state=Probe.State.UP,
            consecutive_successes=len(rows) - 1 - max(TIMED_OUT),
            last_run_at=last.at,
            last_ok=True,
            last_status_code=200,
            last_latency_ms=last.latency_ms,
            cert_expires_at=expires,
        )
        actions.pause_probe(people["mia"], probe)

    timeline.add(since, create)
    timeline.add(now - timedelta(seconds=30), seed)


SCRAPES = 60  # the shop's /metrics, read every minute for the last hour


class _Shop:
    """What Acme's shop exposes (prometheus_client), a minute of traffic at a time."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.carts = Gauge("shop_carts_open", "Carts open now", registry=self.registry)
        self.orders = Counter("shop_orders", "Orders placed", ["payment"], registry=self.registry)
        self.checkout = Histogram(
            "shop_checkout_seconds",
            "Checkout latency",
            buckets=(0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )

    def minute(self, n: int) -> str:
        from prometheus_client import generate_latest

        self.carts.set(40 + (n * 7) % 25)
        self.orders.labels("card").inc(3 + n % 4)
        self.orders.labels("invoice").inc(n % 2)
        for i in range(20):
            self.checkout.observe(0.08 + ((n * 31 + i * 17) % 100) / 60)
        return generate_latest(self.registry).decode()


def _scrape_job(timeline: Timeline, people: dict[str, Any], items: dict[str, Any], acme) -> None:
    """Acme's shop /metrics scraped every minute for the last hour: each answer, made by
    prometheus_client as the shop's would be, goes through the scrape's own parsing and
    recording (`scrape_runs.apply`) without the network; then paused, so the demo stays
    offline."""
    from sustain.monitoring import scrape_parse, scrape_runs

    now = timeline.now
    since = now - timedelta(minutes=SCRAPES)
    made: dict[str, ScrapeJob] = {}

    def create() -> None:
        made["job"] = actions.create_scrape_job(
            people["mia"],
            acme,
            name="acme-shop",
            url="https://shop.acme.example/metrics",
            config_item=items["acme-production"],
            labels={"env": "production"},
        )

    def seed() -> None:
        job = ScrapeJob.objects.select_related("source", "config_item").get(pk=made["job"].pk)
        shop = _Shop()
        for minute in range(SCRAPES):
            at = since + timedelta(minutes=minute, seconds=2)
            parsed = scrape_parse.convert(
                shop.minute(minute),
                target=scrape_runs.target(job),
                now_ms=round(at.timestamp() * 1000),
                config_item=job.config_item,
            )
            outcome = scrape_runs.Outcome(True, 40 + minute % 30, parsed=parsed)
            job = scrape_runs.apply(job, at, outcome)
        actions.pause_scrape_job(people["mia"], job)

    timeline.add(since - timedelta(minutes=5), create)
    timeline.add(now - timedelta(seconds=20), seed)


BACKUP_CRON = "30 2 * * *"  # 02:30 every night, Berlin time
NIGHTS = 14
LATE_NIGHT = 4  # nights ago: the database host was patched and the job ran at 05:05


def backup_heartbeat(timeline: Timeline, people: dict[str, Any], items: dict[str, Any]) -> None:
    """Acme's nightly database backup pings a heartbeat through the real door (`ping`): a
    start and a success with the run's id each night, so the pages show uptime and how long
    the runs took; one night it did not run on time, turned late, then down (its alert opened
    an incident), and its late run resolved both."""
    now = timeline.now
    acme = Organization.objects.get(slug="acme")
    made: dict[str, Any] = {}

    def set_up() -> None:
        made["beat"] = actions.create_heartbeat(
            people["mia"],
            acme,
            name="Nightly database backup",
            config_item=items["acme-db"],
            cron=BACKUP_CRON,
            time_zone="Europe/Berlin",
            grace_seconds=3600,
        )

    def run(kind: str, rid: uuid.UUID) -> Any:
        return lambda: actions.ping(made["beat"].uuid, heartbeats.Call(kind=kind, rid=rid))

    today = now.astimezone(BERLIN).replace(hour=2, minute=30, second=0, microsecond=0)
    timeline.add(today - timedelta(days=NIGHTS, hours=1), set_up)
    for night in range(NIGHTS, -1, -1):
        planned = today - timedelta(days=night)
        rid = uuid.UUID(int=night + 1)
        took = timedelta(minutes=18 + (night * 7) % 9, seconds=(night * 13) % 60)
        if night == LATE_NIGHT:
            # The sweep finds it late at 02:30, down an hour later; the job runs at 05:05.
            timeline.add(planned + timedelta(minutes=1), heartbeats.heartbeat_sweep)
            timeline.add(planned + timedelta(hours=1, minutes=1), heartbeats.heartbeat_sweep)
            planned += timedelta(hours=2, minutes=35)
            took = timedelta(minutes=41, seconds=12)
        timeline.add(planned, run(Ping.Kind.START, rid))
        timeline.add(planned + took, run(Ping.Kind.SUCCESS, rid))


def prometheus_rule(timeline: Timeline, people: dict[str, Any]) -> None:
    """Acme's Prometheus as a threshold rule's data source: the shop's 5xx ratio in PromQL,
    warning at 1 %, critical at 5 % (with recovery thresholds), for five minutes. Paused from
    the start, as the probe is: the demo reaches no server (resume it where one answers)."""
    from sustain.monitoring import prometheus_sources, rules

    def set_up() -> None:
        acme = Organization.objects.get(slug="acme")
        source = prometheus_sources.create_source(
            people["mia"], acme, name="Acme Prometheus", base_url=PROMETHEUS, timeout_seconds=5
        )
        rule = rules.create_rule(
            people["mia"],
            acme,
            name="Shop 5xx ratio (Prometheus)",
            prometheus=source,
            expression='sum(rate(http_requests_total{job="shop",code=~"5.."}[5m]))'
            ' / sum(rate(http_requests_total{job="shop"}[5m]))',
            warning=0.01,
            warning_recovery=0.005,
            critical=0.05,
            critical_recovery=0.03,
            for_seconds=300,
            keep_firing_for_seconds=300,
            no_data="ok",
            no_data_after_seconds=900,
        )
        rules.pause_rule(people["mia"], rule)

    timeline.add(timeline.now - timedelta(days=3), set_up)
