"""Probe pages: the list (status, last result, latency, its sparkline, uptime over 24 h / 7 d /
30 d), one probe with its last results, and for managers the form to make or change one and the pause, resume, run-now and delete buttons.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import actions, uptime
from sustain.monitoring.forms import ProbeForm
from sustain.monitoring.models import Probe, ProbeResult
from sustain.monitoring.sparkline import sparkline
from sustain.monitoring.views import button_action

PAGE = 200
RESULTS = 50
RUNS = 30  # runs in a sparkline


def _probes(request: AuthedRequest):
    return visible(
        Probe.objects.select_related("organization", "config_item", "source"), request.user
    )


def _probe(request: AuthedRequest, probe_id: int) -> Probe:
    return get_object_or_404(_probes(request), pk=probe_id)


def latencies(probe_ids: list[int], runs: int = RUNS) -> dict[int, list[float | None]]:
    """The last `runs` results' latencies of each probe, oldest first, in ms (None for a run
    that failed without an answer): one query for all."""
    ranked = (
        ProbeResult.objects.filter(probe_id__in=probe_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("probe_id")], order_by=[F("at").desc()]))
        .filter(rank__lte=runs)
        .values_list("probe_id", "at", "ok", "latency_ms")
    )
    found: dict[int, list[tuple]] = {pk: [] for pk in probe_ids}
    for probe_id, at, ok, latency in ranked:
        found[probe_id].append((at, float(latency) if ok and latency is not None else None))
    return {pk: [ms for _at, ms in sorted(rows)] for pk, rows in found.items()}


def _decorate(rows: list[Probe]) -> None:
    """Uptime and the latency sparkline on each row (a fixed number of queries)."""
    figures = uptime.for_sources([p.source for p in rows])
    times = latencies([p.pk for p in rows])
    for row in rows:
        row.uptimes = list(figures[row.source_id].items())  # type: ignore[attr-defined]
        row.spark = sparkline(  # type: ignore[attr-defined]
            times[row.pk], title=f"Latency of the last {len(times[row.pk])} runs of {row.name}"
        )


@agent_required
def probes(request: AuthedRequest) -> HttpResponse:
    rows = list(_probes(request).order_by("organization__name", "name")[:PAGE])
    _decorate(rows)
    return render(request, "monitoring/probes.html", {"probes": rows})


@agent_required
def probe(request: AuthedRequest, probe_id: int) -> HttpResponse:
    found = _probe(request, probe_id)
    _decorate([found])
    results = list(ProbeResult.objects.filter(probe=found).order_by("-at", "-id")[:RESULTS])
    times = [r.latency_ms for r in results if r.latency_ms is not None]
    latency = (
        {"low": min(times), "mean": round(sum(times) / len(times)), "high": max(times)}
        if times
        else None
    )
    return render(
        request,
        "monitoring/probe.html",
        {
            "probe": found,
            "results": results,
            "latency": latency,
            "failed": sum(1 for r in results if not r.ok),
        },
    )


def _form_page(request: AuthedRequest, form: ProbeForm, status: int = 200) -> HttpResponse:
    return render(
        request, "monitoring/probe_form.html", {"form": form, "probe": form.probe}, status=status
    )


@manager_required
def probe_new(request: AuthedRequest) -> HttpResponse:
    form = ProbeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = actions.create_probe(
                request.user, data["organization"], kind=data["kind"], **form.settings()
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Probe {made.name} made: it runs now, then every interval.")
            return redirect("monitoring:probe", made.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
def probe_edit(request: AuthedRequest, probe_id: int) -> HttpResponse:
    found = _probe(request, probe_id)
    form = ProbeForm(request.POST or None, user=request.user, probe=found)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_probe(request.user, found, form.settings())
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Probe {found.name} changed.")
            return redirect("monitoring:probe", found.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


def _act(
    request: AuthedRequest, probe_id: int, act, done: str, after: str | None = None
) -> HttpResponse:
    found = _probe(request, probe_id)
    return button_action(request, act, found, done, "monitoring:probe", after)


@manager_required
@require_POST
def probe_pause(request: AuthedRequest, probe_id: int) -> HttpResponse:
    return _act(request, probe_id, actions.pause_probe, "Probe {name} paused: it does not run.")


@manager_required
@require_POST
def probe_resume(request: AuthedRequest, probe_id: int) -> HttpResponse:
    return _act(request, probe_id, actions.resume_probe, "Probe {name} resumed.")


@manager_required
@require_POST
def probe_run(request: AuthedRequest, probe_id: int) -> HttpResponse:
    return _act(request, probe_id, actions.run_now, "Probe {name} runs in a moment.")


@manager_required
@require_POST
def probe_delete(request: AuthedRequest, probe_id: int) -> HttpResponse:
    done = "Probe {name} deleted."
    return _act(request, probe_id, actions.delete_probe, done, "monitoring:probes")
