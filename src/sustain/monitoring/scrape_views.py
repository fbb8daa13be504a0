"""Scrape-job pages: the list (last status, samples, duration), one job with its last runs
(from its own `up`, `scrape_duration_seconds` and `scrape_samples_scraped` series) and the
series it writes, and for managers the form to make or change one and the pause, resume,
scrape-now and delete buttons."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from django.contrib import messages
from django.db.models import TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import actions, scrape_runs
from sustain.monitoring.forms import ScrapeJobForm
from sustain.monitoring.models import Alert, Sample, ScrapeJob, Series
from sustain.monitoring.series import series_key
from sustain.monitoring.views import button_action

PAGE = 200
RUNS = 30
SERIES = 100
SYNTHETIC = ("up", "scrape_duration_seconds", "scrape_samples_scraped")


def _jobs(request: AuthedRequest):
    return visible(ScrapeJob.objects.select_related("organization", "config_item"), request.user)


def _job(request: AuthedRequest, scrape_job_id: int) -> ScrapeJob:
    return get_object_or_404(_jobs(request), pk=scrape_job_id)


@agent_required
def scrape_jobs(request: AuthedRequest) -> HttpResponse:
    rows = list(_jobs(request).order_by("organization__name", "name")[:PAGE])
    return render(request, "monitoring/scrape_jobs.html", {"jobs": rows})


def last_runs(job: ScrapeJob, runs: int = RUNS) -> list[dict]:
    """The job's last runs, newest first, read from its synthetic series (3 + 1 queries)."""
    labels = scrape_runs.target(job)
    keys = {series_key(job.config_item_id, name, labels): name for name in SYNTHETIC}
    ids = dict(
        Series.objects.filter(organization_id=job.organization_id, key__in=keys).values_list(
            "pk", "key"
        )
    )
    by_time: dict[int, dict] = defaultdict(dict)
    for pk, key in ids.items():
        points = Sample.objects.filter(series_id=pk).order_by("-time")[:runs]
        for time, value in points.values_list("time", "value"):
            by_time[time][keys[key]] = value
    return [
        {"at": datetime.fromtimestamp(t / 1000, tz=UTC), **values}
        for t, values in sorted(by_time.items(), reverse=True)[:runs]
    ]


def job_series(job: ScrapeJob):
    """The series the job writes: its job and instance labels."""
    labels = scrape_runs.target(job)
    rows = Series.objects.filter(organization_id=job.organization_id)
    for i, name in enumerate(("job", "instance")):
        text = Cast(KeyTextTransform(name, "labels"), TextField())
        rows = rows.alias(**{f"_l{i}": text}).filter(**{f"_l{i}": labels[name]})
    return rows.order_by("name", "id")


@agent_required
def scrape_job(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    found = _job(request, scrape_job_id)
    series = list(job_series(found)[: SERIES + 1])
    return render(
        request,
        "monitoring/scrape_job.html",
        {
            "job": found,
            "alert": Alert.objects.filter(source_id=found.source_id).first(),
            "runs": last_runs(found),
            "series": series[:SERIES],
            "more_series": len(series) > SERIES,
        },
    )


def _form_page(request: AuthedRequest, form: ScrapeJobForm, status: int = 200) -> HttpResponse:
    return render(
        request, "monitoring/scrape_job_form.html", {"form": form, "job": form.job}, status=status
    )


@manager_required
def scrape_job_new(request: AuthedRequest) -> HttpResponse:
    form = ScrapeJobForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.create_scrape_job(
                request.user, form.cleaned_data["organization"], **form.settings()
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Scrape job {made.name} made: it is scraped now.")
            return redirect("monitoring:scrape_job", made.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
def scrape_job_edit(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    found = _job(request, scrape_job_id)
    form = ScrapeJobForm(request.POST or None, user=request.user, job=found)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_scrape_job(request.user, found, form.settings())
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Scrape job {found.name} changed.")
            return redirect("monitoring:scrape_job", found.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


def _act(
    request: AuthedRequest, scrape_job_id: int, act, done: str, after: str | None = None
) -> HttpResponse:
    found = _job(request, scrape_job_id)
    return button_action(request, act, found, done, "monitoring:scrape_job", after)


@manager_required
@require_POST
def scrape_job_pause(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    return _act(request, scrape_job_id, actions.pause_scrape_job, "Scrape job {name} paused.")


@manager_required
@require_POST
def scrape_job_resume(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    return _act(request, scrape_job_id, actions.resume_scrape_job, "Scrape job {name} resumed.")


@manager_required
@require_POST
def scrape_job_scrape(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    done = "Scrape job {name} is scraped in a moment."
    return _act(request, scrape_job_id, actions.scrape_now, done)


@manager_required
@require_POST
def scrape_job_delete(request: AuthedRequest, scrape_job_id: int) -> HttpResponse:
    done = "Scrape job {name} deleted; its series stay."
    return _act(request, scrape_job_id, actions.delete_scrape_job, done, "monitoring:scrape_jobs")
