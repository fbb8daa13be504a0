"""Prometheus-source pages for staff: the list (address, credentials set or not, the last
connection test, the rules reading from each), and for managers the form to add or change one,
the delete button and the "test connection" button (it asks `vector(1)`)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import prometheus_sources
from sustain.monitoring.models import PrometheusSource
from sustain.monitoring.rule_forms import PrometheusSourceForm

PAGE = 200


def _sources(request: AuthedRequest) -> QuerySet[PrometheusSource]:
    return visible(PrometheusSource.objects.select_related("organization"), request.user)


def _source(request: AuthedRequest, prometheus_source_id: int) -> PrometheusSource:
    return get_object_or_404(_sources(request), pk=prometheus_source_id)


@agent_required
def source_list(request: AuthedRequest) -> HttpResponse:
    rows = _sources(request).annotate(rule_count=Count("rules"))
    found = rows.order_by("organization__name", "name")[:PAGE]
    return render(request, "monitoring/prometheus_sources.html", {"sources": found})


def _form_page(request: AuthedRequest, form: PrometheusSourceForm, status: int) -> HttpResponse:
    return render(
        request,
        "monitoring/prometheus_source_form.html",
        {"form": form, "source": form.source},
        status=status,
    )


@manager_required
def source_new(request: AuthedRequest) -> HttpResponse:
    form = PrometheusSourceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            made = prometheus_sources.create_source(
                request.user, form.cleaned_data["organization"], **form.settings()
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Prometheus source {made.name} added: test its connection.")
            return redirect("monitoring:prometheus_sources")
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
def source_edit(request: AuthedRequest, prometheus_source_id: int) -> HttpResponse:
    found = _source(request, prometheus_source_id)
    form = PrometheusSourceForm(request.POST or None, user=request.user, source=found)
    if request.method == "POST" and form.is_valid():
        try:
            prometheus_sources.update_source(request.user, found, form.settings())
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Prometheus source {found.name} changed.")
            return redirect("monitoring:prometheus_sources")
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
@require_POST
def source_delete(request: AuthedRequest, prometheus_source_id: int) -> HttpResponse:
    found = _source(request, prometheus_source_id)
    try:
        prometheus_sources.delete_source(request.user, found)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Prometheus source {found.name} deleted.")
    return redirect("monitoring:prometheus_sources")


@manager_required
@require_POST
def source_test(request: AuthedRequest, prometheus_source_id: int) -> HttpResponse:
    """Ask `vector(1)` now; the outcome as a message and on the list."""
    found = _source(request, prometheus_source_id)
    try:
        answer = prometheus_sources.test_connection(request.user, found)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        if answer.error:
            messages.error(request, f"{found.name}: {answer.error}")
        else:
            messages.success(request, f"{found.name} answered vector(1): the connection works.")
    return redirect("monitoring:prometheus_sources")
