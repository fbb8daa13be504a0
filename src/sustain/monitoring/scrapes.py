"""Scrape jobs: set-up (create, change, pause, resume, scrape now, delete), each checked whole
before anything is written, and the job's one alert. Running them is scrape_runs'.

A job's URL is judged by the outbound guard where it is saved (public addresses, and the
networks an administrator allows in SUSTAIN_OUTBOUND_ALLOW_NETWORKS), and again at every
scrape, on the address it connects to.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, outbound
from sustain.core.errors import Conflict, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.monitoring import alerts, probes
from sustain.monitoring.models import Alert, ScrapeJob, Source
from sustain.monitoring.series import check_labels

NAME_MAX = 100
INTERVAL_MIN, INTERVAL_MAX = 10, 3600
TIMEOUT_MIN, TIMEOUT_MAX = 1, 60
LABELS_MAX = 10
FINGERPRINT = "scrape"  # the one alert of a job
# Prometheus' label names; the ones it sets itself (job, instance, __…) are not extra labels.
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RESERVED_LABELS = frozenset({"job", "instance"})
SETTINGS = ("name", "config_item", "url", "interval_seconds", "timeout_seconds", "labels")
DEFAULTS: dict[str, Any] = {
    "config_item": None,
    "interval_seconds": 60,
    "timeout_seconds": 10,
    "labels": {},
}
log = logging.getLogger(__name__)


# --- checks -----------------------------------------------------------------------------------
def _check(actor: User, organization: Organization) -> None:
    probes.check_manager(actor, organization)  # the same people set up every watcher


def _check_url(url: Any) -> str:
    url = probes.bounded_text("url", url or "", outbound.URL_MAX)
    if not url:
        raise Invalid(
            "A scrape job needs the URL of its /metrics (http:// or https://).", field="url"
        )
    try:
        outbound.check_target(url)
    except outbound.OutboundError as exc:
        if exc.kind is outbound.Kind.NOT_ALLOWED:
            raise Invalid(
                f"Scrape jobs may not reach this address ({exc.reason}): only public addresses, "
                "and networks an administrator allows (SUSTAIN_OUTBOUND_ALLOW_NETWORKS).",
                field="url",
            ) from None
        raise probes.guard_error(exc, "url") from None
    return url


def check_extra_labels(value: Any) -> dict[str, str]:
    """Extra labels: Prometheus label names, values as series labels take them."""
    if value is None:
        return {}
    labels = check_labels(value, "labels")
    if len(labels) > LABELS_MAX:
        raise Invalid(f"labels: at most {LABELS_MAX} extra labels.", field="labels")
    for name in labels:
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise Invalid(
                f"labels: {name[:40]!r} is not a label name (letters, digits and _, not "
                "starting with a digit or __).",
                field="labels",
            )
        if name in RESERVED_LABELS:
            raise Invalid(f"labels: {name} is set by the scrape itself.", field="labels")
    return labels


def _checked(organization: Organization, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    name = probes.bounded_text("name", values.get("name") or "", NAME_MAX)
    if not name:
        raise Invalid(f"Give the scrape job a name of at most {NAME_MAX} characters.", field="name")
    out["name"] = name
    item = values.get("config_item")
    if item is not None and item.organization_id != organization.pk:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )
    interval = probes.whole_number(
        "interval_seconds", values["interval_seconds"], INTERVAL_MIN, INTERVAL_MAX
    )
    timeout = probes.whole_number(
        "timeout_seconds", values["timeout_seconds"], TIMEOUT_MIN, TIMEOUT_MAX
    )
    if timeout >= interval:
        raise Invalid(
            "timeout_seconds must be shorter than interval_seconds.", field="timeout_seconds"
        )
    out["labels"] = check_extra_labels(values.get("labels"))
    out["url"] = _check_url(values.get("url"))
    return out


# --- set-up -----------------------------------------------------------------------------------
def create_scrape_job(
    actor: User,
    organization: Organization,
    *,
    name: str,
    now: datetime | None = None,
    **settings: Any,
) -> ScrapeJob:
    """A scrape job for `organization` with its own alert source; it runs at once."""
    _check(actor, organization)
    refuse_unknown(settings, SETTINGS, "Unknown scrape job field: {names}.")
    values = _checked(organization, {**DEFAULTS, **settings, "name": name})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            source = Source.objects.create(
                organization=organization,
                name=values["name"],
                kind=Source.Kind.SCRAPE,
                config_item=values["config_item"],
            )
            job = ScrapeJob.objects.create(
                organization=organization, source=source, next_run_at=now, **values
            )
            events.record(job, "created", actor=actor, after={"name": job.name, "url": job.url})
            transaction.on_commit(_wake_worker)
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a scrape job named {values['name']}.", field="name"
        ) from None
    return job


def update_scrape_job(
    actor: User, job: ScrapeJob, changes: dict[str, Any], now: datetime | None = None
) -> ScrapeJob:
    """Change a job's settings; an active job scrapes again at once."""
    _check(actor, job.organization)
    refuse_unknown(changes, SETTINGS, "Unknown scrape job field: {names}.")
    fresh = ScrapeJob.objects.select_related("organization").get(pk=job.pk)
    current = {name: getattr(fresh, name) for name in SETTINGS}
    values = _checked(fresh.organization, {**current, **changes})  # resolves the URL: outside
    now = now or timezone.now()
    try:
        with transaction.atomic():
            (job,) = locked_all(ScrapeJob.objects.filter(pk=job.pk))
            for key in changes:
                setattr(job, key, values[key])
            if not job.paused:
                job.next_run_at = now
                transaction.on_commit(_wake_worker)
            job.save()
            Source.objects.filter(pk=job.source_id).update(
                name=job.name, config_item=job.config_item
            )
            events.record(job, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(
            f"A scrape job named {values['name']} exists already.", field="name"
        ) from None
    return job


def pause_scrape_job(actor: User, job: ScrapeJob, now: datetime | None = None) -> ScrapeJob:
    """Never scraped until resumed; its firing alert is resolved."""
    _check(actor, job.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (job,) = locked_all(ScrapeJob.objects.filter(pk=job.pk).select_related("source"))
        if job.paused:
            return job
        failing = job.status == ScrapeJob.Status.FAILED
        job.paused, job.next_run_at, job.lease, job.leased_until = True, None, "", None
        job.save()
        if failing:
            signal(job, Alert.State.RESOLVED, now, "paused")
        events.record(job, "paused", actor=actor)
    return job


def resume_scrape_job(actor: User, job: ScrapeJob, now: datetime | None = None) -> ScrapeJob:
    """Scraped again, at once."""
    _check(actor, job.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (job,) = locked_all(ScrapeJob.objects.filter(pk=job.pk))
        if job.paused:
            job.paused, job.next_run_at, job.status = False, now, ScrapeJob.Status.NEW
            job.save(update_fields=["paused", "next_run_at", "status"])
            events.record(job, "resumed", actor=actor)
            transaction.on_commit(_wake_worker)
    return job


def scrape_now(actor: User, job: ScrapeJob, now: datetime | None = None) -> ScrapeJob:
    """Due at once: the scheduler scrapes it within a second or so."""
    _check(actor, job.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (job,) = locked_all(ScrapeJob.objects.filter(pk=job.pk))
        if job.paused:
            raise Conflict("The scrape job is paused: resume it to scrape it.")
        job.next_run_at = now
        job.save(update_fields=["next_run_at"])
        events.record(job, "scrape_requested", actor=actor)
        transaction.on_commit(_wake_worker)
    return job


def delete_scrape_job(actor: User, job: ScrapeJob) -> None:
    """The job and its source (with its alert) go; its series and incidents stay."""
    _check(actor, job.organization)
    with transaction.atomic():
        events.record(job, "deleted", actor=actor, before={"name": job.name})
        Source.objects.filter(pk=job.source_id).delete()  # cascades to the job


def _wake_worker() -> None:
    from sustain.monitoring.tasks import wake_scrapes

    try:
        wake_scrapes()
    except Exception:  # the periodic task starts it anyway
        log.exception("could not queue the scrape scheduler's wake-up")


# --- the alert --------------------------------------------------------------------------------
def signal(job: ScrapeJob, state: str, now: datetime, why: str) -> None:
    alerts.receive(
        job.source,
        alerts.Signal(
            fingerprint=FINGERPRINT,
            state=state,
            name=f"Scrape of {job.name} failed",
            starts_at=now,
            ends_at=now if state == Alert.State.RESOLVED else None,
            severity="warning",
            labels={"job": job.name, "target": job.url[:200]},
            annotations={"summary": f"{job.name}: {why}"[:500]},
            config_item=job.config_item,
        ),
        now,
    )
